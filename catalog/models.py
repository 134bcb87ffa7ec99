"""Catalog models: categories, products, their options, variants and images, and stock.

A product is what the storefront lists; what a customer buys is one of its variants (a product
without options has exactly one, its default variant). Prices live on the variants: the
product's `unit_amount` and `currency` are its lowest active variant's, kept in step by
`catalog.variants.product_sync` (so price filters and ordering use an index). Stock is per
variant: `stock_on_hand` (NULL = not tracked, unlimited), what pending orders hold
(`StockReservation`) and every change of on-hand (`StockMovement`, the ledger); the rules are in
`catalog/stock.py`.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from shopapi.managers import NonDeletableManager, deletion_refused

# At most 8 digits of minor units: the largest single amount the payment provider accepts.
MAX_UNIT_AMOUNT = 99_999_999


def default_currency() -> str:
    return str(settings.DEFAULT_CURRENCY)


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    unit_amount = models.PositiveIntegerField(help_text="Price in minor units (paise for INR).")
    currency = models.CharField(max_length=3, default=default_currency)
    is_active = models.BooleanField(default=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    image_url = models.URLField(max_length=500, blank=True)
    requires_shipping = models.BooleanField(
        default=True,
        db_default=True,  # rows inserted without it (catalog/seeding_sql.py, older tools) ship
        help_text="Off for digital goods: a cart of only such lines collects no address.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_amount__gt=0) & models.Q(unit_amount__lte=MAX_UNIT_AMOUNT),
                name="catalog_product_unit_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[a-z]{3}$"),
                name="catalog_product_currency_lower_iso",
            ),
        ]
        indexes = [
            models.Index(fields=["is_active", "-created_at", "-id"], name="product_active_created_idx"),
            models.Index(fields=["is_active", "unit_amount", "id"], name="product_active_price_idx"),
            models.Index(fields=["is_active", "name", "id"], name="product_active_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


def _amount_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=models.Q(unit_amount__gt=0) & models.Q(unit_amount__lte=MAX_UNIT_AMOUNT),
            name=f"{prefix}_unit_amount_range",
        ),
        models.CheckConstraint(
            condition=models.Q(currency__regex=r"^[a-z]{3}$"), name=f"{prefix}_currency_lower_iso"
        ),
    ]


class ProductOption(models.Model):
    """One dimension a product comes in (Size, Colour), with its values in display order."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=60)
    values = models.JSONField(default=list, help_text='The values in display order, e.g. ["S", "M", "L"].')
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="catalog_option_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {', '.join(str(value) for value in self.values)}"


class ProductVariant(models.Model):
    """What a customer buys: a product in one combination of its options, with a price and stock."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=220, unique=True, verbose_name="SKU")
    title = models.CharField(
        max_length=200, blank=True, help_text="Shown to buyers; blank: the option values (“M / Red”)."
    )
    options = models.JSONField(default=dict, blank=True, help_text='e.g. {"Size": "M", "Colour": "Red"}.')
    unit_amount = models.PositiveIntegerField(help_text="Price in minor units (paise for INR).")
    currency = models.CharField(max_length=3, default=default_currency)
    is_active = models.BooleanField(default=True)
    # NULL: stock is not tracked (always available). Below 0 only after a payment that arrived
    # when the stock was gone (the order is flagged `oversold`).
    stock_on_hand = models.IntegerField(
        null=True, blank=True, help_text="Units on hand; empty = not tracked (unlimited)."
    )
    position = models.PositiveIntegerField(default=0)
    requires_shipping = models.BooleanField(
        null=True, blank=True, help_text="Empty: as the product; set it to override for this variant."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = _amount_constraints("catalog_variant")
        indexes = [models.Index(fields=["product", "position", "id"], name="variant_product_pos_idx")]

    def __str__(self) -> str:
        return f"{self.sku} ({self.display_title})"

    @property
    def ships(self) -> bool:
        """Whether this variant is shipped: its own `requires_shipping`, else its product's."""
        if self.requires_shipping is not None:
            return self.requires_shipping
        return self.product.requires_shipping

    @property
    def display_title(self) -> str:
        """The title buyers see: the given one, else the option values, else "Default"."""
        if self.title:
            return self.title
        values = [str(value) for value in (self.options or {}).values()]
        return " / ".join(values) if values else "Default"


class ProductImage(models.Model):
    """A picture of a product, stored through Django's storage API (local media or S3)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/%Y/%m/", max_length=300)
    alt = models.CharField(max_length=200, blank=True, help_text="Describes the picture for screen readers.")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "position", "id"], name="image_product_pos_idx")]

    def __str__(self) -> str:
        return self.alt or self.image.name


class StockReservation(models.Model):
    """What a pending order holds of a tracked variant, from checkout until the order is settled.

    Only `held` rows whose `expires_at` (the payment session's expiry) is still ahead count
    against availability: a session that can no longer be paid frees its stock at once, even
    before the provider tells us it expired.
    """

    class Status(models.TextChoices):
        HELD = "held", "Held"
        RELEASED = "released", "Released"
        SOLD = "sold", "Sold"

    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="reservations")
    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "variant"], name="catalog_reservation_one_per_line"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="catalog_reservation_quantity_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["variant", "expires_at"],
                condition=models.Q(status="held"),
                name="reservation_held_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id} for order {self.order_id} ({self.status})"


class StockMovement(models.Model):
    """One change of a variant's on-hand stock: the ledger that explains every number.

    The sum of a tracked variant's deltas is its `stock_on_hand` (a test holds the two in step);
    rows are never deleted.
    """

    class Reason(models.TextChoices):
        SALE = "sale", "Sale"
        RETURN = "return", "Return to stock"
        ADJUSTMENT = "adjustment", "Adjustment by staff"
        IMPORT = "import", "Import"

    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="movements")
    delta = models.IntegerField()
    on_hand_after = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    order = models.ForeignKey(
        "checkout.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="stock_movements"
    )
    actor = models.CharField(max_length=150, blank=True, help_text="The staff member, or empty.")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(delta=0), name="catalog_movement_delta_nonzero"),
        ]
        indexes = [models.Index(fields=["variant", "-created_at"], name="movement_variant_idx")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.variant_id} ({self.reason})"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])
