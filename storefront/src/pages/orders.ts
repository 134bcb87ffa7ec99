// Order history and one order: status, items, amounts, history of events, and for an order with
// something to ship: fulfilment status, the shipping address and method, shipments with tracking.
import { api, asApiError, type Schemas } from "../api/client";
import { guest, session } from "../state";
import { date, errorBox, h, loading, money, statusBadge } from "../ui";

type Order = Schemas["Order"];

function shippingBlock(order: Order): Node | null {
  const { shipping, shipments } = order;
  if (!shipping && shipments.length === 0) return null; // nothing to ship (or not paid yet)
  const address = shipping?.address;
  return h(
    "section",
    { class: "shipping", "aria-label": "Shipping" },
    h("h3", {}, "Shipping ", statusBadge(order.fulfilment_status)),
    shipping?.method && h("p", {}, `Method: ${shipping.method.name}`),
    address && h("address", {}, [address.name, address.line1, address.line2, [address.postal_code, address.city].filter(Boolean).join(" "), address.state, address.country].filter(Boolean).join(", ")),
    shipments.length > 0 &&
      h("ul", { class: "shipments" }, ...shipments.map((s) =>
        h(
          "li",
          {},
          `${s.carrier} `,
          s.tracking_url ? h("a", { href: s.tracking_url, target: "_blank", rel: "noopener" }, s.tracking_number) : s.tracking_number,
          ` · shipped ${date(s.shipped_at)}`,
          s.delivered_at ? ` · delivered ${date(s.delivered_at)}` : "",
        ),
      )),
  );
}

/** Subtotal, shipping, discount and tax, when any of the last three is not zero. */
function sums(order: Order): Node | null {
  const rows: Array<[string, number]> = [["Subtotal", order.subtotal_amount], ["Shipping", order.shipping_amount], ["Discount", -order.discount_amount], ["Tax", order.tax_amount]];
  if (rows.slice(1).every(([, amount]) => amount === 0)) return null;
  return h("dl", { class: "sums" }, ...rows.filter(([, amount]) => amount !== 0).flatMap(([label, amount]) => [h("dt", {}, label), h("dd", {}, money(amount, order.currency))]));
}

export function orderView(order: Order): HTMLElement {
  return h(
    "article",
    { class: "order", "data-order": order.number },
    h("header", {}, h("h2", {}, `Order ${order.number}`), statusBadge(order.status)),
    h("p", { class: "meta" }, `Placed ${date(order.created_at)}`, order.paid_at ? ` · paid ${date(order.paid_at)}` : ""),
    h("ul", { class: "lines" }, ...order.items.map((item) =>
      h("li", { class: "line" }, h("span", { class: "line-name" }, item.name, h("small", {}, item.variant_title)), h("span", {}, `× ${item.quantity}`), h("span", { class: "amount" }, money(item.line_total, order.currency))),
    )),
    sums(order),
    h("p", { class: "total" }, "Total ", h("strong", {}, money(order.total_amount, order.currency))),
    shippingBlock(order),
    h("details", {}, h("summary", {}, "History"), h("ol", { class: "events" }, ...order.events.map((e) => h("li", {}, statusBadge(e.status), ` ${date(e.created_at)} (${e.source})`)))),
  );
}

async function guestOrders(): Promise<Order[]> {
  const found = await Promise.all(
    guest.orders.map(async ({ id, token }) => (await api.GET("/api/v1/orders/{id}/", { params: { path: { id } }, headers: { "X-Order-Token": token } })).data),
  );
  return found.filter((o): o is Order => o !== undefined);
}

export async function ordersPage(_: Record<string, string>, query: URLSearchParams): Promise<Node> {
  const page = h("div", {}, h("h1", {}, "Your orders"), loading("Loading orders…"));
  let orders: Order[] = [];
  let next: string | null = null;
  if (session.signedIn) {
    const { data, error, response } = await api.GET("/api/v1/orders/", { params: { query: { cursor: query.get("cursor") ?? undefined } } });
    if (!data) return page.lastChild!.replaceWith(errorBox(asApiError(error, response))), page;
    orders = data.results;
    next = data.next ? new URL(data.next, window.location.origin).searchParams.get("cursor") : null;
  } else {
    orders = await guestOrders(); // a guest's orders are those this browser bought (with their tokens)
  }
  page.lastChild?.remove();
  if (orders.length === 0) page.append(h("p", { class: "empty" }, "No orders yet. ", !session.signedIn && h("a", { href: "/signin?next=/orders" }, "Sign in"), !session.signedIn && " to see your account's orders."));
  page.append(...orders.map(orderView));
  if (next) page.append(h("nav", { class: "pager" }, h("a", { class: "button", href: `/orders?cursor=${encodeURIComponent(next)}` }, "Older orders →")));
  return page;
}
