// Sign in, register, password reset (request + the emailed link's page) and email verification.
// The emailed links point here through PASSWORD_RESET_URL and EMAIL_VERIFICATION_URL.
import { api, asApiError } from "../api/client";
import { claimGuestCart } from "../cart";
import { navigate } from "../router";
import { session } from "../state";
import { busy, errorBox, field, h, loading, notice } from "../ui";

function input(name: string, type: string, autocomplete: string): HTMLInputElement {
  return h("input", { name, type, autocomplete, required: true });
}

/** A form whose submit runs `action`; an API error is shown under it as the API words it. */
function authForm(title: string, fields: HTMLElement[], label: string, action: () => Promise<unknown>, after?: Node): HTMLElement {
  const feedback = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "account", onsubmit: async (event: Event) => {
    event.preventDefault();
    feedback.replaceChildren();
    try {
      await busy(form, action);
    } catch (error) {
      feedback.replaceChildren(errorBox(asApiError(error)));
    }
  } }, ...fields, h("button", { type: "submit", class: "primary" }, label), feedback);
  return h("div", { class: "narrow" }, h("h1", {}, title), form, after ?? null);
}

async function afterSignIn(next: string | null): Promise<void> {
  const from = window.location.pathname;
  const capped = await claimGuestCart(); // the guest cart joins the account's cart
  // Move on unless the buyer already did (the header's links work as soon as the tokens are kept).
  if (window.location.pathname === from) navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
  if (capped.length > 0) alert(`Some cart lines could not be merged:\n${capped.join("\n")}`);
}

export function signInPage(_: Record<string, string>, query: URLSearchParams): Node {
  const username = input("username", "text", "username");
  const password = input("password", "password", "current-password");
  const page = authForm("Sign in", [field("Username or email", username), field("Password", password)], "Sign in", async () => {
    const { data, error, response } = await api.POST("/api/v1/auth/token/", { body: { username: username.value, password: password.value } });
    if (!data) throw asApiError(error, response);
    session.signIn(data);
    await afterSignIn(query.get("next"));
  }, h("p", {}, h("a", { href: "/register" }, "Create an account"), " · ", h("a", { href: "/reset-password" }, "Forgot your password?")));
  if (query.has("reset")) page.querySelector("h1")?.after(notice("Your password is changed. Sign in with the new one.", "success"));
  return page;
}

export function registerPage(_: Record<string, string>, query: URLSearchParams): Node {
  const username = input("username", "text", "username");
  const email = input("email", "email", "email");
  const password = input("password", "password", "new-password");
  return authForm("Create an account", [field("Username", username), field("Email", email), field("Password", password)], "Create account", async () => {
    const { data, error, response } = await api.POST("/api/v1/auth/register/", {
      body: { username: username.value, email: email.value, password: password.value },
    });
    if (!data) throw asApiError(error, response);
    session.signIn(data); // register answers a token pair: the buyer is signed in at once
    await afterSignIn(query.get("next"));
  });
}

export function resetPasswordPage(_: Record<string, string>, query: URLSearchParams): Node {
  const uid = query.get("uid");
  const token = query.get("token");
  if (uid && token) {
    const password = input("new_password", "password", "new-password");
    return authForm("Choose a new password", [field("New password", password)], "Set password", async () => {
      const { error, response } = await api.POST("/api/v1/auth/password/reset/confirm/", { body: { uid, token, new_password: password.value } });
      if (!response.ok) throw asApiError(error, response); // password_reset_invalid: used or expired link
      navigate("/signin?reset=1");
    });
  }
  const email = input("email", "email", "email");
  const page = authForm("Reset your password", [field("Email", email)], "Send reset link", async () => {
    const { error, response } = await api.POST("/api/v1/auth/password/reset/", { body: { email: email.value } });
    if (!response.ok) throw asApiError(error, response);
    // Always 202, whether or not an account has this address: the API does not reveal which do.
    page.append(notice("If an account uses this address, a reset link is on its way.", "success"));
  });
  return page;
}

export async function verifyEmailPage(_: Record<string, string>, query: URLSearchParams): Promise<Node> {
  const page = h("div", { class: "narrow" }, h("h1", {}, "Verify your email"), loading("Verifying…"));
  const { error, response } = await api.POST("/api/v1/auth/email/verify/", { body: { token: query.get("token") ?? "" } });
  page.lastChild?.remove();
  page.append(response.ok ? notice("Your email address is verified.", "success") : errorBox(asApiError(error, response)));
  return page;
}
