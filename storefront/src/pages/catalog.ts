// Catalog: search, category filter and cursor pages. The API's pages are cursors (opaque strings in
// `next` / `previous`), not page numbers: the shop passes them through the URL unchanged.
import { api, asApiError, type Schemas } from "../api/client";
import { navigate } from "../router";
import { errorBox, field, h, loading, money } from "../ui";

function cursorOf(url: string | null): string | null {
  return url ? new URL(url, window.location.origin).searchParams.get("cursor") : null;
}

function pageLink(query: URLSearchParams, cursor: string | null, label: string, rel: string): HTMLElement {
  if (!cursor) return h("span", { class: "button disabled", "aria-disabled": "true" }, label);
  const next = new URLSearchParams(query);
  next.set("cursor", cursor);
  return h("a", { class: "button", href: `/?${next.toString()}`, rel }, label);
}

export function productCard(product: Schemas["Product"], index: number): HTMLElement {
  const image = product.images[0];
  return h(
    "li",
    { class: "card" },
    h(
      "a",
      { href: `/products/${encodeURIComponent(product.slug)}`, class: "card-link" },
      image ? h("img", { src: image.url, alt: image.alt || product.name, loading: index < 8 ? "eager" : "lazy", width: 320, height: 240 }) : h("div", { class: "placeholder", "aria-hidden": "true" }),
      h("h3", {}, product.name),
      h("p", { class: "price" }, product.variants.length > 1 ? "from " : "", money(product.unit_amount, product.currency)),
      !product.in_stock && h("p", { class: "stock out" }, "Out of stock"),
    ),
  );
}

export async function catalogPage(_: Record<string, string>, query: URLSearchParams): Promise<Node> {
  const search = query.get("search") ?? "";
  const category = query.get("category") ?? "";
  const searchInput = h("input", { type: "search", name: "search", value: search, placeholder: "Search products", maxlength: 100, autocomplete: "off" });
  const categorySelect = h("select", { name: "category" }, h("option", { value: "" }, "All categories"));
  const form = h(
    "form",
    { class: "filters", role: "search", onsubmit: (event: Event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      if (searchInput.value.trim()) next.set("search", searchInput.value.trim());
      if (categorySelect.value) next.set("category", categorySelect.value);
      navigate(`/?${next.toString()}`);
    } },
    field("Search", searchInput),
    field("Category", categorySelect),
    h("button", { type: "submit" }, "Search"),
  );
  categorySelect.addEventListener("change", () => form.requestSubmit());

  const results = h("section", { "aria-label": "Products" }, loading("Loading products…"));
  const [categories, products] = await Promise.all([
    api.GET("/api/v1/categories/", { params: { query: { page_size: 100 } } }),
    api.GET("/api/v1/products/", {
      params: { query: { search: search || undefined, category: category || undefined, cursor: query.get("cursor") ?? undefined, page_size: 8 } },
    }),
  ]);
  for (const c of categories.data?.results ?? []) {
    categorySelect.append(h("option", { value: c.slug, selected: c.slug === category }, c.name));
  }
  results.replaceChildren();
  if (products.error || !products.data) {
    // e.g. 400 naming `search` for a search of only short words, shown as the API words it.
    results.append(errorBox(asApiError(products.error, products.response)));
  } else if (products.data.results.length === 0) {
    results.append(h("p", { class: "empty" }, search ? `No products match “${search}”.` : "No products here yet."));
  } else {
    const { next, previous } = products.data;
    results.append(
      h("ul", { class: "grid" }, ...products.data.results.map(productCard)),
      h("nav", { class: "pager", "aria-label": "Pages" }, pageLink(query, cursorOf(previous), "← Previous", "prev"), pageLink(query, cursorOf(next), "Next →", "next")),
    );
  }
  return h("div", {}, h("h1", {}, search ? `Results for “${search}”` : "Shop"), form, results);
}
