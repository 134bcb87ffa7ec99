// Product page: images, a picker per option (Size, Colour …), the chosen variant's price and stock.
// `available_quantity` null means the variant's stock is not tracked (always available).
import { api, asApiError, type Schemas } from "../api/client";
import { addToCart } from "../cart";
import { busy, errorBox, field, h, money, notice } from "../ui";

type Variant = Schemas["Variant"];

function stockText(variant: Variant | undefined): string {
  if (!variant) return "This combination is not sold.";
  if (!variant.in_stock) return "Out of stock";
  const left = variant.available_quantity;
  return left === null ? "In stock" : left <= 5 ? `Only ${left} left` : `In stock (${left})`;
}

export async function productPage(params: Record<string, string>): Promise<Node> {
  const { data: product, error, response } = await api.GET("/api/v1/products/{id}/", {
    params: { path: { id: params.slug ?? "" } },
  });
  if (!product) return h("div", {}, h("h1", {}, "Product"), errorBox(asApiError(error, response)), h("a", { href: "/" }, "Back to the shop"));

  const first = product.variants.find((v) => v.in_stock) ?? product.variants[0];
  const pickers = product.options.map((option) =>
    h("select", { name: `option-${option.name}`, "data-option": option.name }, ...option.values.map((value) => h("option", { value, selected: first?.options[option.name] === value }, value))),
  );
  // No `max`: the limit (CART_MAX_QUANTITY) and the stock are the API's to say, in its words.
  const quantity = h("input", { type: "number", name: "quantity", min: 1, value: 1, inputmode: "numeric", required: true });
  const price = h("p", { class: "price" });
  const stock = h("p", { class: "stock", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Add to cart");
  const feedback = h("div", { "aria-live": "polite" });

  const chosen = (): Variant | undefined =>
    product.variants.find((v) => pickers.every((p) => v.options[p.dataset.option ?? ""] === p.value));
  const refresh = (): void => {
    const variant = chosen();
    price.textContent = money(variant?.unit_amount ?? product.unit_amount, product.currency);
    stock.textContent = stockText(variant);
    stock.className = `stock ${variant?.in_stock ? "in" : "out"}`;
    submit.disabled = !variant?.in_stock;
  };
  pickers.forEach((p) => p.addEventListener("change", refresh));
  refresh();

  const form = h(
    "form",
    { class: "buy", onsubmit: async (event: Event) => {
      event.preventDefault();
      const variant = chosen();
      if (!variant) return;
      const result = await busy(form, () => addToCart(variant.id, Number(quantity.value)));
      feedback.replaceChildren(
        result.error ? errorBox(result.error) : h("div", {}, notice(`Added ${quantity.value} × ${product.name} (${variant.title}).`, "success"), h("a", { href: "/cart", class: "button" }, "View cart")),
      );
      refresh();
    } },
    ...pickers.map((p, i) => field(product.options[i]?.name ?? "Option", p)),
    field("Quantity", quantity),
    submit,
  );

  const gallery = h(
    "div",
    { class: "gallery" },
    ...(product.images.length > 0
      ? product.images.map((image, i) => h("img", { src: image.url, alt: image.alt || product.name, loading: i === 0 ? "eager" : "lazy", width: 640, height: 480 }))
      : [h("div", { class: "placeholder", "aria-hidden": "true" })]),
  );
  return h(
    "article",
    { class: "product" },
    gallery,
    h("div", { class: "details" }, h("p", { class: "crumbs" }, h("a", { href: "/" }, "Shop"), product.category && " / ", product.category && h("a", { href: `/?category=${encodeURIComponent(product.category.slug)}` }, product.category.name)), h("h1", {}, product.name), price, stock, h("p", { class: "description" }, product.description), form, feedback),
  );
}
