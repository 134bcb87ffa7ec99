// Entry point: the header (cart count, sign in/out) and the routes. Each page is one module in pages/.
import "./styles.css";
import { api } from "./api/client";
import { currentCart, onCartCount } from "./cart";
import { cartPage } from "./pages/cart";
import { catalogPage } from "./pages/catalog";
import { productPage } from "./pages/product";
import { registerPage, resetPasswordPage, signInPage, verifyEmailPage } from "./pages/account";
import { ordersPage } from "./pages/orders";
import { successPage } from "./pages/success";
import { navigate, route, startRouter } from "./router";
import { session } from "./state";
import { errorBox, h, loading } from "./ui";

route("/", catalogPage);
route("/products/:slug", productPage);
route("/cart", cartPage);
route("/signin", signInPage);
route("/register", registerPage);
route("/reset-password", resetPasswordPage);
route("/verify-email", verifyEmailPage);
route("/checkout/success", successPage);
route("/orders", ordersPage);

const main = document.querySelector<HTMLElement>("main")!;
const cartCount = h("span", { class: "count", "aria-label": "items in cart" }, "0");
const account = h("span", { class: "account-links" });

function renderAccount(): void {
  account.replaceChildren(
    ...(session.signedIn
      ? [h("a", { href: "/orders" }, "Orders"), h("button", { type: "button", class: "link", onclick: signOut }, "Sign out")]
      : [h("a", { href: "/orders" }, "Orders"), h("a", { href: "/signin" }, "Sign in")]),
  );
}

async function signOut(): Promise<void> {
  const refresh = session.refreshToken;
  if (refresh) await api.POST("/api/v1/auth/logout/", { body: { refresh } }); // blacklists the refresh token
  session.signOut();
  navigate("/");
}

document.querySelector("header")!.append(
  h("a", { href: "/", class: "brand" }, "shopapi ", h("small", {}, "example store")),
  h("nav", { "aria-label": "Account" }, account, h("a", { href: "/cart", class: "cart-link" }, "Cart ", cartCount)),
);
onCartCount((count) => (cartCount.textContent = String(count)));
session.onChange(() => {
  renderAccount();
  void currentCart();
});
renderAccount();
void currentCart();

let rendering = 0;
startRouter(async (page) => {
  const ticket = ++rendering; // a slow page finishing late must not replace a newer one
  main.setAttribute("aria-busy", "true");
  main.replaceChildren(loading());
  try {
    const node = await page;
    if (ticket === rendering) main.replaceChildren(node);
  } catch (error) {
    if (ticket === rendering) main.replaceChildren(errorBox({ code: "server_error", message: String(error), fields: {} }));
  } finally {
    if (ticket === rendering) {
      main.removeAttribute("aria-busy");
      main.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }
});
