// The payment provider sends the buyer here (CHECKOUT_SUCCESS_URL) with ?session_id=…
//
// Calling POST /orders/confirm/ on EVERY load is safe, reloads and back-button included: settlement
// is idempotent. The server asks the provider about the session and moves the order pending → paid
// with a conditional update that only one caller (this page, the webhook, reconciliation) can win;
// every other call returns the same paid order and changes nothing. So this page never needs to
// remember whether it already confirmed, and a customer is never charged or fulfilled twice.
import { api, asApiError } from "../api/client";
import { currentCart } from "../cart";
import { guest, session } from "../state";
import { errorBox, h, loading, notice } from "../ui";
import { orderView } from "./orders";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function successPage(_: Record<string, string>, query: URLSearchParams): Promise<Node> {
  const page = h("div", {}, h("h1", {}, "Thank you"), loading("Confirming your payment…"));
  const sessionId = query.get("session_id") ?? "";
  for (let attempt = 0; ; attempt++) {
    const { data: order, error, response } = await api.POST("/api/v1/orders/confirm/", { body: { session_id: sessionId } });
    if (!order) return page.lastChild!.replaceWith(errorBox(asApiError(error, response))), page;
    // A delayed payment method stays `pending` a while: ask again a few times, then say so.
    if (order.status === "pending" && attempt < 5) {
      await sleep(1000 * (attempt + 1));
      continue;
    }
    if (order.order_token) guest.rememberOrder({ id: order.id, token: order.order_token, number: order.number });
    if (order.status === "paid" && !session.signedIn) guest.cart = null; // that cart is checked out now
    await currentCart(); // refresh the header's count
    page.lastChild?.remove();
    page.append(
      order.status === "paid" ? notice("Your payment was received.", "success") : notice(`Your order is ${order.status.replace(/_/g, " ")}.`),
      orderView(order),
      h("p", {}, h("a", { href: "/orders" }, "All your orders"), " · ", h("a", { href: "/" }, "Continue shopping")),
    );
    return page;
  }
}
