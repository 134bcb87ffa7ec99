// Cart: quantities, removal, total, and checkout: the API answers a `checkout_url` (the payment
// provider's hosted page) and the browser goes there; the provider sends the buyer back to
// CHECKOUT_SUCCESS_URL (our /checkout/success) or CHECKOUT_CANCEL_URL (this page, ?cancelled=1).
import type { Schemas } from "../api/client";
import { checkout, currentCart, removeLine, setQuantity } from "../cart";
import { dispatch } from "../router";
import { session } from "../state";
import { busy, errorBox, field, h, money, notice } from "../ui";

function line(cart: Schemas["Cart"], item: Schemas["CartLine"], feedback: HTMLElement): HTMLElement {
  const quantity = h("input", { type: "number", name: `quantity-${item.id}`, min: 1, value: item.quantity, inputmode: "numeric", "aria-label": `Quantity of ${item.product.name}` });
  const row = h(
    "li",
    { class: "line", "data-line": item.id },
    item.product.images[0] ? h("img", { src: item.product.images[0].url, alt: "", width: 96, height: 72 }) : h("div", { class: "placeholder small" }),
    h("div", { class: "line-name" }, h("a", { href: `/products/${encodeURIComponent(item.product.slug)}` }, item.product.name), h("small", {}, item.variant.title)),
    h("form", { class: "qty", onsubmit: async (event: Event) => {
      event.preventDefault();
      // 409 insufficient_stock says how many are left; 400 names `quantity` past the maximum.
      const result = await busy(row, () => setQuantity(cart.id, item.id, Number(quantity.value)));
      if (result.error) feedback.replaceChildren(errorBox(result.error));
      else dispatch();
    } }, quantity, h("button", { type: "submit" }, "Update")),
    h("span", { class: "amount" }, money(item.line_total, cart.currency)),
    h("button", { type: "button", class: "link", "aria-label": `Remove ${item.product.name}`, onclick: async () => {
      const error = await busy(row, () => removeLine(cart.id, item.id));
      if (error) feedback.replaceChildren(errorBox(error));
      else dispatch();
    } }, "Remove"),
  );
  return row;
}

export async function cartPage(_: Record<string, string>, query: URLSearchParams): Promise<Node> {
  const page = h("div", {}, h("h1", {}, "Your cart"));
  if (query.has("cancelled")) page.append(notice("Payment cancelled. Your cart is as you left it."));
  const result = await currentCart();
  if (result.error) return append(page, errorBox(result.error));
  const cart = result.data;
  if (!cart || cart.items.length === 0) return append(page, h("p", { class: "empty" }, "Your cart is empty. ", h("a", { href: "/" }, "Continue shopping")));

  const feedback = h("div", { "aria-live": "polite" });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const form = h(
    "form",
    { class: "checkout", onsubmit: async (event: Event) => {
      event.preventDefault();
      const answer = await busy(form, () => checkout(cart.id, session.signedIn ? undefined : email.value));
      if (answer.error) feedback.replaceChildren(errorBox(answer.error));
      else window.location.assign(answer.data.checkout_url); // the hosted payment page
    } },
    h("p", { class: "total" }, "Total ", h("strong", { "data-total": cart.total_amount }, money(cart.total_amount, cart.currency))),
    !session.signedIn && field("Email for the receipt", email),
    !session.signedIn && h("p", { class: "hint" }, "Buying as a guest. ", h("a", { href: "/signin?next=/cart" }, "Sign in"), " to keep this cart in your account."),
    h("button", { type: "submit", class: "primary" }, "Checkout"),
  );
  return append(page, h("ul", { class: "lines" }, ...cart.items.map((item) => line(cart, item, feedback))), feedback, form);
}

function append(el: HTMLElement, ...children: Node[]): HTMLElement {
  el.append(...children);
  return el;
}
