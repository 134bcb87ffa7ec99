// Playwright against a stack started by scripts/storefront_test.py (`make storefront-test`), on the
// system's chromium (Debian's package): no browser download, ever.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.STOREFRONT_URL ?? "http://127.0.0.1:8000",
    viewport: { width: 1280, height: 860 },
    launchOptions: { executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] },
    trace: "off",
    screenshot: "only-on-failure",
  },
});
