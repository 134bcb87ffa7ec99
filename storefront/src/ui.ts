// Small DOM helpers. Everything from the API goes in as text nodes (never innerHTML), so a product
// name or an error message can't inject markup.
import type { ApiError } from "./api/client";

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
}

/** Integer minor units (as the API sends them) to a localized price: 129900 inr → ₹1,299.00. */
export function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

export function date(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function loading(label = "Loading…"): HTMLElement {
  return h("p", { class: "loading", role: "status", "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

/**
 * The API's error as it words it: `message`, then each field's messages. The server already names the
 * field and says what is wrong ("Only 2 left."), so the shop shows its words rather than its own.
 */
export function errorBox(error: ApiError): HTMLElement {
  const fields = Object.entries(error.fields ?? {});
  return h(
    "div",
    { class: "error", role: "alert", "data-code": error.code },
    h("p", {}, error.message),
    fields.length > 0 && h("ul", {}, ...fields.map(([field, messages]) => h("li", {}, h("code", {}, field), ": ", messages.join(" ")))),
  );
}

export function notice(text: string, kind: "info" | "success" = "info"): HTMLElement {
  return h("p", { class: `notice ${kind}`, role: "status" }, text);
}

/** A labelled form field; `name` doubles as the id the label points at. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLElement {
  input.id ||= `f-${input.name}`;
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
}

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `badge status-${status}`, "data-status": status }, status.replace(/_/g, " "));
}

/** Disable a form's controls while `work` runs, so a double click sends one request. */
export async function busy<T>(form: HTMLElement, work: () => Promise<T>): Promise<T> {
  const controls = [...form.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input, select")];
  controls.forEach((c) => (c.disabled = true));
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    controls.forEach((c) => (c.disabled = false));
    form.removeAttribute("aria-busy");
  }
}
