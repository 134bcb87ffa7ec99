"""Cart serializers: validate cart-line input and shape carts and lines (they never write).

Amounts come from the products' current prices via `checkout.pricing`, never from
the client. Cart querysets must come from the cart selectors (lines, products and
categories prefetched) so shaping costs no queries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import ProductVariant
from catalog.serializers import ProductSerializer
from catalog.variants import product_children_attach
from checkout import pricing
from checkout.models import Cart, CartItem
from checkout.services.claims import CAP_REASONS

_MAX_PK = 2**63 - 1


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: numeric strings ("3"), floats (1.5, even 1.0) and booleans are rejected.

    The API speaks JSON, so an integer is sent as one; accepting "3" would also accept "3.0",
    " 3" and friends, which clients then come to rely on.
    """

    default_error_messages = {"invalid": "A JSON integer is required."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class QuantityField(StrictIntegerField):
    """1..settings.CART_MAX_QUANTITY, read at validation time (settings can change in tests)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault(
            "help_text", f"Integer number of units, 1..{settings.CART_MAX_QUANTITY} (CART_MAX_QUANTITY)."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        value = super().to_internal_value(data)
        maximum = pricing.max_quantity()
        if value > maximum:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {maximum}.", code="max_value"
            )
        return value


class CartItemAddSerializer(serializers.Serializer[dict[str, int]]):
    """Input of `POST /carts/{id}/items/`: `variant_id`, or `product_id` for a one-variant product."""

    variant_id = StrictIntegerField(
        min_value=1, max_value=_MAX_PK, required=False, help_text="Id of an active variant (what is bought)."
    )
    product_id = StrictIntegerField(
        min_value=1,
        max_value=_MAX_PK,
        required=False,
        help_text="Id of an active product with exactly one active variant (clients from before variants).",
    )
    quantity = QuantityField()

    def validate(self, attrs: dict[str, int]) -> dict[str, int]:
        if "variant_id" not in attrs and "product_id" not in attrs:
            needed = "One of variant_id or product_id is required."
            raise serializers.ValidationError({"variant_id": [needed], "product_id": [needed]})
        return attrs


class CartItemUpdateSerializer(serializers.Serializer[dict[str, int]]):
    """Input of `PATCH /carts/{id}/items/{item_id}/`: the line's new quantity."""

    quantity = QuantityField()


class LineVariantSerializer(serializers.Serializer[ProductVariant]):
    """The variant a line holds: `{id, sku, title, options}`."""

    id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True, source="display_title")
    options = serializers.DictField(child=serializers.CharField(), read_only=True)

    def to_representation(self, instance: ProductVariant) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "sku": instance.sku,
            "title": instance.display_title,
            "options": instance.options or {},
        }


class CartLineSerializer(serializers.ModelSerializer[CartItem]):
    """line = {id, product, variant, quantity, unit_amount, line_total}, at the variant's current price."""

    product = ProductSerializer(read_only=True)
    variant = LineVariantSerializer(read_only=True)
    unit_amount = serializers.IntegerField(
        source="variant.unit_amount", read_only=True, help_text="Current price per unit, minor units."
    )
    line_total = serializers.SerializerMethodField(help_text="unit_amount × quantity, minor units.")

    class Meta:
        model = CartItem
        fields = ["id", "product", "variant", "quantity", "unit_amount", "line_total"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_line_total(self, item: CartItem) -> int:
        return pricing.line_total(item.variant.unit_amount, item.quantity)


class CartListSerializer(serializers.ListSerializer[Cart]):
    """Several carts: the products of all their lines get their variants and images in one query."""

    def to_representation(self, data: Any) -> list[Any]:
        carts = list(data.all() if hasattr(data, "all") else data)
        product_children_attach([item.product for cart in carts for item in cart.items.all()])
        return super().to_representation(carts)


class CartSerializer(serializers.ModelSerializer[Cart]):
    """cart = {id, status, items, total_amount, currency, item_count, created_at, updated_at, token}.

    `token` is a new guest cart's token, in the one answer that created it (the view passes it in
    the context as `cart_token`); null in every other answer: only its hash is stored.
    """

    items = CartLineSerializer(many=True, read_only=True)
    total_amount = serializers.SerializerMethodField(
        help_text="Sum of line totals at current prices, minor units."
    )
    currency = serializers.SerializerMethodField(
        help_text="Lowercase ISO code of the lines; DEFAULT_CURRENCY for an empty cart."
    )
    item_count = serializers.SerializerMethodField(
        help_text="Sum of the lines' quantities (units in the cart), not the number of lines."
    )
    token = serializers.SerializerMethodField(
        help_text=(
            "A guest cart's secret token, shown ONLY in the answer of `POST /carts/` that created the "
            "cart (anonymous call); send it as `X-Cart-Token` on every call about this cart. Null in "
            "every other answer: it is stored hashed and can't be shown again."
        )
    )

    class Meta:
        model = Cart
        list_serializer_class = CartListSerializer
        fields = [
            "id",
            "status",
            "items",
            "total_amount",
            "currency",
            "item_count",
            "created_at",
            "updated_at",
            "token",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Cart) -> dict[str, Any]:
        # The lines' products with their variants and images: one query for the whole cart.
        product_children_attach([item.product for item in instance.items.all()])
        return super().to_representation(instance)

    def _totals(self, cart: Cart) -> pricing.PricedCart:
        cache: dict[Any, pricing.PricedCart] = self.__dict__.setdefault("_totals_cache", {})
        if cart.pk not in cache:
            cache[cart.pk] = pricing.price_cart(cart.items.all())
        return cache[cart.pk]

    @extend_schema_field(serializers.IntegerField())
    def get_total_amount(self, cart: Cart) -> int:
        return self._totals(cart).total_amount

    @extend_schema_field(serializers.CharField())
    def get_currency(self, cart: Cart) -> str:
        return self._totals(cart).currency

    @extend_schema_field(serializers.IntegerField())
    def get_item_count(self, cart: Cart) -> int:
        return self._totals(cart).item_count

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_token(self, cart: Cart) -> str | None:
        token = self.context.get("cart_token")
        return token if isinstance(token, str) else None


class CappedLineSerializer(serializers.Serializer[Any]):
    """A guest line that joined the user's cart with fewer units than asked for, or not at all."""

    variant_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text="The product, and the variant when it has options.")
    requested = serializers.IntegerField(help_text="Units the line would hold with every guest unit added.")
    quantity = serializers.IntegerField(help_text="Units the line holds now (0: not added).")
    reason = serializers.ChoiceField(choices=CAP_REASONS)
    message = serializers.CharField()


class CartClaimSerializer(CartSerializer):
    """The caller's cart after a claim, and the guest lines that were capped or left out (the view
    passes them in the context as `capped`)."""

    capped = serializers.SerializerMethodField(
        help_text="Guest lines that joined with fewer units than asked for, or were left out, and why."
    )

    class Meta(CartSerializer.Meta):
        fields = [*CartSerializer.Meta.fields, "capped"]
        read_only_fields = fields

    @extend_schema_field(CappedLineSerializer(many=True))
    def get_capped(self, cart: Cart) -> list[Any]:
        return list(CappedLineSerializer(self.context.get("capped", []), many=True).data)
