// Vite: `npm run dev` (or `make storefront`) serves the shop on :5173 and proxies the API, so the
// browser sees one origin and needs no CORS; `npm run build` writes dist/, which Django serves at /
// under `make run` (shopapi/storefront.py).
import { defineConfig } from "vite";

const api = process.env.SHOPAPI_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  server: {
    host: process.env.HOST ?? "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/api": api, "/media": api },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
