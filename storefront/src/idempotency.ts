// Idempotency-Key (README "Retrying writes safely"): the server stores the first completed answer to
// a write for 24 h per caller and key, and replays it to a repeat with the same key. So the rule is
// ONE KEY PER USER INTENT: a click on "Add to cart" makes a key; every retry of that click (a timeout,
// a dropped connection, a 409 `idempotency_key_in_progress`) sends the SAME key and body, so the line
// is added once however many times the request reached the server. A new click is a new intent and
// gets a new key: reusing a key for a different body is a 422 `idempotency_key_reused`.
import { asApiError, type ApiError } from "./api/client";

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

type Attempt<T> = (key: string) => Promise<{ data?: T; error?: unknown; response: Response }>;

/** Run `attempt` with one key, retrying network failures and "still running" answers with that key. */
export async function withIdempotencyKey<T>(
  attempt: Attempt<T>,
  { tries = 3, key = newIdempotencyKey() }: { tries?: number; key?: string } = {},
): Promise<{ data: T; error?: undefined } | { data?: undefined; error: ApiError }> {
  let last: ApiError = asApiError(undefined);
  for (let i = 0; i < tries; i++) {
    try {
      const { data, error, response } = await attempt(key);
      if (data !== undefined && response.ok) return { data };
      last = asApiError(error, response);
      // The first request with this key is still running on the server: wait (Retry-After: 1), retry.
      if (response.status !== 409 || last.code !== "idempotency_key_in_progress") return { error: last };
    } catch (networkError) {
      // No answer at all (offline, reset): the server may or may not have run it; the same key
      // makes the retry safe either way.
      last = asApiError(networkError);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000 * (i + 1)));
  }
  return { error: last };
}
