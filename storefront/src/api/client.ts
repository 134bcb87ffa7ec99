// The typed API client: openapi-fetch over the types openapi-typescript generates from schema.yml
// (src/api/schema.d.ts; `make clients` regenerates it and CI fails if it differs from schema.yml).
// Every call the shop makes is checked against the schema at compile time: a renamed field or path
// is a type error here, not a blank page in production.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { session } from "../state";

export type Schemas = components["schemas"];
export type ApiError = Schemas["Error"];

// Same origin by default: `make run` serves the shop and the API from one server, and Vite's dev
// server proxies /api. Set VITE_API_BASE to talk to an API elsewhere (it must allow the origin: CORS).
export const API_BASE = (import.meta.env.VITE_API_BASE as string | undefined) ?? "";

const auth: Middleware = {
  async onRequest({ request, schemaPath }) {
    // Token endpoints authenticate by their body; everything else carries the access token if any.
    if (schemaPath.startsWith("/api/v1/auth/token")) return request;
    const access = await session.freshAccessToken(refreshTokens);
    if (access && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${access}`);
    }
    return request;
  },
  async onResponse({ response }) {
    // An access token the server no longer accepts (expired, user gone): sign out locally so the
    // next page shows the sign-in link instead of failing every call.
    if (response.status === 401 && session.signedIn) session.signOut();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: API_BASE });
api.use(auth);

/** Rotate the refresh token (the old one is blacklisted by the server) and keep the new pair. */
async function refreshTokens(refresh: string): Promise<Schemas["TokenPair"] | null> {
  const response = await fetch(`${API_BASE}/api/v1/auth/token/refresh/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh }),
  });
  return response.ok ? ((await response.json()) as Schemas["TokenPair"]) : null;
}

/** The API's own error body, or one in the same shape for a network failure or a non-JSON answer. */
export function asApiError(error: unknown, response?: Response): ApiError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const e = error as ApiError;
    return { code: e.code, message: e.message, fields: e.fields ?? {} };
  }
  const status = response ? ` (HTTP ${response.status})` : "";
  return { code: "service_unavailable", message: `The shop could not be reached${status}. Try again.`, fields: {} };
}
