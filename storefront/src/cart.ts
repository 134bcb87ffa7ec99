// The cart: a signed-in user's (found by their JWT) or a guest's (found by X-Cart-Token).
import { api, asApiError, type ApiError, type Schemas } from "./api/client";
import { withIdempotencyKey } from "./idempotency";
import { guest, session } from "./state";

type Cart = Schemas["Cart"];
type Result<T> = { data: T; error?: undefined } | { data?: undefined; error: ApiError };

const listeners = new Set<(count: number) => void>();
export function onCartCount(fn: (count: number) => void): void {
  listeners.add(fn);
}
function announce(cart: Cart | null): void {
  listeners.forEach((fn) => fn(cart?.item_count ?? 0));
}

/** Headers that reach the current cart: none for a user (the JWT does it), the token for a guest. */
function cartHeaders(): { "X-Cart-Token"?: string } {
  const token = !session.signedIn ? guest.cart?.token : undefined;
  return token ? { "X-Cart-Token": token } : {};
}

/** The open cart, or null when there is none yet (nothing is created just by looking). */
export async function currentCart(): Promise<Result<Cart | null>> {
  let cart: Cart | null = null;
  if (session.signedIn) {
    const { data, error, response } = await api.GET("/api/v1/carts/");
    if (error || !data) return { error: asApiError(error, response) };
    cart = data.find((c) => c.status === "open") ?? null;
  } else if (guest.cart) {
    const { data, response } = await api.GET("/api/v1/carts/{id}/", {
      params: { path: { id: guest.cart.id } },
      headers: cartHeaders(), // X-Cart-Token is a security scheme in the schema, not a parameter
    });
    // 404: the token no longer reaches the cart (merged, purged): forget it.
    if (response.status === 404) guest.cart = null;
    cart = data && data.status === "open" ? data : null;
  }
  announce(cart);
  return { data: cart };
}

/** The open cart, creating it (a user's, or a guest cart whose token we keep) when there is none. */
async function openCart(): Promise<Result<Cart>> {
  const existing = await currentCart();
  if (existing.error) return existing;
  if (existing.data) return { data: existing.data };
  // A fresh key per attempt is NOT what we want for writes in general, but an anonymous POST /carts/
  // is keyed by client address: a fixed key could hand two visitors behind one NAT the same cart.
  const result = await withIdempotencyKey((key) =>
    api.POST("/api/v1/carts/", { params: { header: { "Idempotency-Key": key } } }),
  );
  if (result.data && !session.signedIn && result.data.token) {
    guest.cart = { id: result.data.id, token: result.data.token };
  }
  return result;
}

/**
 * Add a variant. One Idempotency-Key per click: `withIdempotencyKey` makes it once and reuses it for
 * every retry of this click, so a retried request never adds the quantity twice.
 */
export async function addToCart(variantId: number, quantity: number): Promise<Result<Schemas["CartLine"]>> {
  const cart = await openCart();
  if (cart.error) return cart;
  const result = await withIdempotencyKey((key) =>
    api.POST("/api/v1/carts/{id}/items/", {
      params: { path: { id: cart.data.id }, header: { "Idempotency-Key": key } },
      headers: cartHeaders(),
      body: { variant_id: variantId, quantity },
    }),
  );
  await currentCart();
  return result;
}

export async function setQuantity(cartId: string, lineId: number, quantity: number): Promise<Result<unknown>> {
  return withIdempotencyKey((key) =>
    api.PATCH("/api/v1/carts/{id}/items/{item_id}/", {
      params: { path: { id: cartId, item_id: lineId }, header: { "Idempotency-Key": key } },
      headers: cartHeaders(),
      body: { quantity },
    }),
  );
}

export async function removeLine(cartId: string, lineId: number): Promise<ApiError | null> {
  const { error, response } = await api.DELETE("/api/v1/carts/{id}/items/{item_id}/", {
    params: { path: { id: cartId, item_id: lineId } },
    headers: cartHeaders(),
  });
  return response.ok ? null : asApiError(error, response);
}

/**
 * Checkout: the API answers the hosted payment page's URL. Calling it twice for an unchanged cart
 * returns the same session (200), so a double click or a retry never opens a second payable one.
 * A guest gives an email; the answer's order_token is kept to read the order later.
 */
export async function checkout(cartId: string, email: string | undefined): Promise<Result<Schemas["Checkout"]>> {
  const result = await withIdempotencyKey((key) =>
    api.POST("/api/v1/carts/{id}/checkout/", {
      params: { path: { id: cartId }, header: { "Idempotency-Key": key } },
      headers: cartHeaders(),
      body: email ? { email } : {},
    }),
  );
  if (result.data?.order_token) {
    guest.rememberOrder({ id: result.data.order_id, token: result.data.order_token, number: result.data.order_number });
  }
  return result;
}

/**
 * After sign-in: merge the guest cart into the user's (POST /carts/{id}/claim/ with the JWT and the
 * guest's token). Lines that could not be merged whole come back in `capped` with the API's reason.
 */
export async function claimGuestCart(): Promise<string[]> {
  const cart = guest.cart;
  if (!cart || !session.signedIn) return [];
  const { data, response } = await api.POST("/api/v1/carts/{id}/claim/", {
    params: { path: { id: cart.id } },
    headers: { "X-Cart-Token": cart.token },
  });
  // 409 cart_has_pending_order: the guest is paying for it right now; keep the token for later.
  if (response.status !== 409) guest.cart = null;
  announce(data ?? null);
  return (data?.capped ?? []).map((line) => `${line.name}: ${line.message}`);
}
