// The storefront end to end: a guest and a signed-in buyer each search, pick a variant, pay on the
// hosted page (fakestripe under test) and see the paid order; a declined card is shown and retried.
import { expect, test, type Page } from "@playwright/test";
import path from "node:path";

const SHOTS = path.resolve(process.env.SCREENSHOT_DIR ?? "../docs/storefront"); // run from storefront/
async function shot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState("networkidle");
  await page.waitForFunction(() => [...document.images].every((image) => image.complete));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function findAndPick(page: Page, search: string, product: RegExp, options: Record<string, string>): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Search", { exact: true }).fill(search);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("heading", { name: `Results for “${search}”` })).toBeVisible();
  await page.getByRole("link", { name: product }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: product })).toBeVisible();
  for (const [option, value] of Object.entries(options)) await page.getByLabel(option, { exact: true }).selectOption(value);
  await expect(page.locator(".stock")).toHaveText(/In stock|left/);
}

/** The hosted payment page: fill the shipping fields when the session collects them, then a card. */
async function pay(page: Page, card: string): Promise<void> {
  const fill = async (name: string, value: string) => {
    const input = page.locator(`[name="${name}"]`);
    if ((await input.count()) > 0 && (await input.first().inputValue()) === "") await input.first().fill(value);
  };
  await fill("name", "Asha Rao");
  await fill("line1", "12 MG Road");
  await fill("city", "Bengaluru");
  await fill("state", "KA");
  await fill("postal_code", "560001");
  const country = page.locator('select[name="country"]');
  if ((await country.count()) > 0) await country.selectOption({ index: 0 });
  else await fill("country", "IN");
  const rate = page.locator('[name="shipping_rate"]');
  if ((await rate.count()) > 0 && (await rate.first().getAttribute("type")) === "radio") await rate.first().check();
  await page.getByLabel(/card number/i).fill(card);
  await page.getByRole("button", { name: /pay/i }).click();
}

test("a guest buys a T-shirt, is declined once, retries and sees the paid order", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Shop" })).toBeVisible();
  await shot(page, "catalog");
  // Cursor pages: the API's `next` / `previous` cursors, passed through the URL.
  const firstPage = await page.locator(".card h3").allTextContents();
  await page.getByRole("link", { name: "Next →" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.locator(".card h3").first()).not.toHaveText(firstPage[0]!);
  await page.getByRole("link", { name: "← Previous" }).click();
  await expect(page.locator(".card h3")).toHaveText(firstPage);

  await findAndPick(page, "shirt", /T-Shirt/, { Size: "M", Colour: "White" });
  await shot(page, "product");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText(/Added 1 ×/)).toBeVisible();
  await expect(page.locator(".count")).toHaveText("1");

  await page.getByRole("link", { name: "View cart" }).click();
  await expect(page.getByRole("heading", { name: "Your cart" })).toBeVisible();
  // Quantity edit, and an error in the API's words: more than the line maximum names `quantity`.
  await page.getByLabel(/Quantity of/).fill("2");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.locator(".count")).toHaveText("2");
  await page.getByLabel(/Quantity of/).fill("500");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByRole("alert")).toContainText("quantity");
  await page.getByLabel("Email for the receipt").fill("guest@example.com");
  await shot(page, "cart");
  await page.getByRole("button", { name: "Checkout" }).click();

  await page.waitForURL(/\/pay\//);
  await pay(page, "4000000000000002");
  await expect(page.getByRole("alert")).toContainText(/declined/i);
  await shot(page, "hosted-page-declined");
  await pay(page, "4242424242424242");

  await page.waitForURL(/\/checkout\/success\?session_id=/);
  await expect(page.locator(".order [data-status]").first()).toHaveText("paid");
  await shot(page, "success");
  // Reloading the success page confirms again: same order, still paid, nothing charged twice.
  await page.reload();
  await expect(page.locator(".order [data-status]").first()).toHaveText("paid");

  await page.getByRole("link", { name: "All your orders" }).click();
  await expect(page.locator(".order").first().locator("[data-status]").first()).toHaveText("paid");
  await expect(page.locator(".count")).toHaveText("0");
});

test("a signed-in buyer buys a jacket and finds it in the order history", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("Username or email").fill("demo");
  await page.getByLabel("Password").fill("demo-shopper-2026");
  await shot(page, "signin");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

  await findAndPick(page, "jacket", /Jacket/, { Size: "L", Colour: "Olive" });
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText(/Added 1 ×/)).toBeVisible();
  await page.getByRole("link", { name: "View cart" }).click();
  await expect(page.getByLabel("Email for the receipt")).toHaveCount(0); // the account's address is used
  await page.getByRole("button", { name: "Checkout" }).click();

  await page.waitForURL(/\/pay\//);
  await shot(page, "hosted-page");
  await pay(page, "4242424242424242");
  await page.waitForURL(/\/checkout\/success\?session_id=/);
  await expect(page.locator(".order [data-status]").first()).toHaveText("paid");
  const number = await page.locator(".order").first().getAttribute("data-order");

  await page.getByRole("link", { name: "Orders" }).first().click();
  const order = page.locator(`.order[data-order="${number}"]`);
  await expect(order.locator("[data-status]").first()).toHaveText("paid");
  await expect(order).toContainText("Jacket");
  await shot(page, "orders");
  await page.setViewportSize({ width: 390, height: 844 }); // a phone: one column, same content
  await expect(order).toBeVisible();
  await shot(page, "orders-mobile");
});

test("a guest's cart joins the account's cart on sign-in", async ({ page }) => {
  await findAndPick(page, "socks", /Socks/, { Size: "L" });
  await page.getByLabel("Quantity", { exact: true }).fill("3");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.locator(".count")).toHaveText("3");

  // Signing in claims the guest cart (POST /carts/{id}/claim/ with the JWT and X-Cart-Token).
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Username or email").fill("demo@example.com");
  await page.getByLabel("Password").fill("demo-shopper-2026");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(page).toHaveURL(/\/$/); // claimed, then sent on

  await page.getByRole("link", { name: /Cart/ }).click();
  const line = page.locator(".line", { hasText: "Socks" });
  await expect(line).toContainText("L");
  await expect(line.getByRole("spinbutton")).toHaveValue("3");
  await expect(page.getByLabel("Email for the receipt")).toHaveCount(0); // it is the account's cart now
});

test("register signs in at once; a used or forged reset link shows the API's words", async ({ page }) => {
  const name = `buyer${Date.now()}`;
  await page.goto("/register");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password").fill("a-long-passphrase-42");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();

  // The emailed link's page (PASSWORD_RESET_URL?uid=…&token=…), with a link that is not valid.
  await page.goto("/reset-password?uid=MQ&token=forged-token");
  await page.getByLabel("New password").fill("another-passphrase-43");
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByRole("alert")).toHaveAttribute("data-code", "password_reset_invalid");

  // Asking for a link answers the same for any address (the API does not say which exist).
  await page.goto("/reset-password");
  await page.getByLabel("Email").fill("nobody@example.com");
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByText(/reset link is on its way/)).toBeVisible();
});
