// What the shop remembers between pages, in localStorage:
// - the signed-in user's JWT pair (access lives 15 minutes; it is refreshed shortly before expiry);
// - a guest's cart id and its X-Cart-Token: the API shows the token ONCE, when the guest cart is
//   created, and stores only its hash, so losing it loses the cart (like a lost cookie);
// - a guest's orders with their X-Order-Token, so a guest can reopen what they bought.

const KEYS = { access: "shopapi.access", refresh: "shopapi.refresh", guestCart: "shopapi.guestCart", guestOrders: "shopapi.guestOrders" };

export type GuestCart = { id: string; token: string };
export type GuestOrder = { id: string; token: string; number: string };
type TokenPair = { access: string; refresh: string };

function read<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  if (value === null) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
}

/** Seconds since the epoch at which a JWT expires (its `exp` claim), or 0 if unreadable. */
function expiry(jwt: string): number {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number };
    return payload.exp ?? 0;
  } catch {
    return 0;
  }
}

const listeners = new Set<() => void>();
let refreshing: Promise<string | null> | null = null;

export const session = {
  get signedIn(): boolean {
    return read<string>(KEYS.refresh) !== null;
  },
  signIn(pair: TokenPair): void {
    write(KEYS.access, pair.access);
    write(KEYS.refresh, pair.refresh);
    listeners.forEach((fn) => fn());
  },
  signOut(): void {
    write(KEYS.access, null);
    write(KEYS.refresh, null);
    listeners.forEach((fn) => fn());
  },
  get refreshToken(): string | null {
    return read<string>(KEYS.refresh);
  },
  onChange(fn: () => void): void {
    listeners.add(fn);
  },
  /** The access token, refreshed first when it expires within 30 s; one refresh at a time. */
  async freshAccessToken(refresh: (token: string) => Promise<TokenPair | null>): Promise<string | null> {
    const access = read<string>(KEYS.access);
    const refreshToken = read<string>(KEYS.refresh);
    if (!access || !refreshToken) return null;
    if (expiry(access) - 30 > Date.now() / 1000) return access;
    refreshing ??= refresh(refreshToken)
      .then((pair) => {
        if (!pair) {
          session.signOut();
          return null;
        }
        session.signIn(pair);
        return pair.access;
      })
      .catch(() => access)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  },
};

export const guest = {
  get cart(): GuestCart | null {
    return read<GuestCart>(KEYS.guestCart);
  },
  set cart(value: GuestCart | null) {
    write(KEYS.guestCart, value);
  },
  get orders(): GuestOrder[] {
    return read<GuestOrder[]>(KEYS.guestOrders) ?? [];
  },
  rememberOrder(order: GuestOrder): void {
    const others = guest.orders.filter((o) => o.id !== order.id);
    write(KEYS.guestOrders, [order, ...others].slice(0, 50));
  },
};
