"""Checkout models: carts and their lines, orders with snapshots, order events.

Exactly-once is held by the database, not by `exists()` checks:
- one open cart per user (partial unique constraint);
- a cart belongs to a user or to a guest (the sha256 of its token, checkout/tokens.py), never
  both and never neither (check constraint); a guest order likewise has its order token's hash;
- one pending order per cart (partial unique constraint), so two checkouts can never
  both hold a payable session for the same cart;
- one order per payment session (`provider_session_id` unique);
- one row per provider event id (`payments.ProviderEvent.event_id` unique), so a replayed
  webhook is recognised.
Orders, their items and events are never deleted (PROTECT everywhere): their default manager's
`delete()` and their own `delete()` raise `ProtectedError` (see shopapi/managers.py). The
statuses and their rules are in checkout/states.py.
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from catalog.models import Product, ProductVariant
from checkout.states import OrderStatus
from shopapi.managers import NonDeletableManager, deletion_refused

# The database ceiling for a line's quantity; the API enforces settings.CART_MAX_QUANTITY, which
# may be lower (checkout/pricing.py; a system check warns when the setting is above this).
QUANTITY_HARD_LIMIT = 999


class Cart(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CHECKED_OUT = "checked_out", "Checked out"
        MERGED = "merged", "Merged"  # a guest cart claimed into a user's cart; its token no longer works

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A user's cart, or a guest's: then null, and `token_hash` is the sha256 of the guest's token.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="carts", null=True, blank=True
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="open"),
                name="checkout_cart_one_open_per_user",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, token_hash__isnull=True)
                | models.Q(user__isnull=True, token_hash__isnull=False),
                name="checkout_cart_user_or_guest_token",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {self.id} ({self.status})"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    # The variant is what is bought; `product` is always the variant's product (kept for joins).
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="checkout_cartitem_unique_variant"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1) & models.Q(quantity__lte=QUANTITY_HARD_LIMIT),
                name="checkout_cartitem_quantity_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x variant {self.variant_id}"


class Order(models.Model):
    Status = OrderStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True)
    # A user's order, or a guest's: then null, and `token_hash` is the sha256 of its order token.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    # Where the receipt goes: the guest's address from checkout, or the user's at checkout.
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    cart = models.ForeignKey(Cart, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3)
    total_amount = models.PositiveBigIntegerField()
    # The parts of the total as the provider reported them at settlement (until then the subtotal
    # is the lines' sum and the total): total = subtotal + shipping − discount + tax.
    subtotal_amount = models.PositiveBigIntegerField(default=0)
    shipping_amount = models.PositiveBigIntegerField(default=0)
    discount_amount = models.PositiveBigIntegerField(default=0)
    tax_amount = models.PositiveBigIntegerField(default=0)
    # What the payment session was asked for beyond the lines (shipping options and countries,
    # promotion codes, tax): `payments.interface.CheckoutOptions`, the same on every attempt.
    checkout_options = models.JSONField(default=dict, blank=True)
    # Where and how it ships, from the provider at settlement (null: nothing to ship, or not paid).
    shipping_method = models.ForeignKey(
        "checkout.ShippingMethod", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    shipping_method_name = models.CharField(max_length=100, blank=True)
    shipping_rate_id = models.CharField(max_length=255, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    # The payment provider's ids: the hosted payment session, and the payment once there is one.
    provider_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_id = models.CharField(max_length=255, blank=True, db_index=True)
    checkout_url = models.URLField(max_length=2048, blank=True)
    session_expires_at = models.DateTimeField(null=True, blank=True)
    # Set when a call about this order's session failed without an answer (a timeout): the session
    # may or may not exist (no id yet) or be open; it is resolved before anything relies on it
    # (checkout/services/settlement.py `order_session_resolve`).
    session_unclear_since = models.DateTimeField(null=True, blank=True)
    content_fingerprint = models.CharField(max_length=64)
    # Succeeded refunds, and refunds still pending at the provider (checkout/services/refunds.py).
    amount_refunded = models.PositiveBigIntegerField(default=0)
    amount_refund_pending = models.PositiveBigIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Paid when its stock was no longer there (its reservation had been released): the money is
    # kept, staff restock or refund (catalog/stock.py `stock_sell`).
    oversold = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("refund_order", "Can refund orders through the payment provider"),
            ("ship_order", "Can record shipments and deliveries of orders"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cart"],
                condition=models.Q(status="pending"),
                name="checkout_order_one_pending_per_cart",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("total_amount")),
                name="checkout_order_refund_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    total_amount=models.F("subtotal_amount")
                    + models.F("shipping_amount")
                    - models.F("discount_amount")
                    + models.F("tax_amount")
                ),
                name="checkout_order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount_refunded__lte=models.F("total_amount") - models.F("amount_refund_pending")
                ),
                name="checkout_order_refunds_with_pending_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, token_hash__isnull=True)
                | models.Q(user__isnull=True, token_hash__isnull=False),
                name="checkout_order_user_or_guest_token",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_created_idx"),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
            models.Index(
                fields=["-created_at"], condition=models.Q(oversold=True), name="order_oversold_idx"
            ),
            # Guest orders by email in any case: a verified user's attached orders (ownership.py).
            models.Index(
                Lower("email"), condition=models.Q(user__isnull=True), name="order_guest_email_ci_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not (self.subtotal_amount or self.shipping_amount or self.tax_amount):
            self.subtotal_amount = self.total_amount  # nothing but lines yet (the constraint holds)
        super().save(*args, **kwargs)

    @property
    def customer_email(self) -> str:
        """Where the receipt goes: the order's email, else (orders from before it was kept) the user's."""
        if self.email:
            return self.email
        return self.user.email if self.user_id is not None and self.user is not None else ""

    @property
    def item_list(self) -> list[OrderItem]:
        """The items by id: the list `orders_for_user` prefetched, or one query without it."""
        prefetched = self.__dict__.get("prefetched_items")
        return prefetched if prefetched is not None else list(self.items.order_by("id"))

    @property
    def event_list(self) -> list[OrderEvent]:
        """The status history, oldest first: prefetched by `orders_for_user`, or one query."""
        prefetched = self.__dict__.get("prefetched_events")
        return prefetched if prefetched is not None else list(self.events.order_by("created_at", "id"))

    @property
    def shipment_list(self) -> list[Shipment]:
        """The shipments, oldest first, with their items: prefetched by the selectors, or two queries."""
        prefetched = self.__dict__.get("prefetched_shipments")
        if prefetched is not None:
            return prefetched
        return list(self.shipments.prefetch_related("items").order_by("shipped_at", "id"))

    @property
    def fulfilment_status(self) -> str:
        """unfulfilled / partially_fulfilled / fulfilled, from the items' shipped quantities."""
        return fulfilment_status_of(self.item_list)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    # Snapshots of the variant at checkout, like the name and the price.
    sku = models.CharField(max_length=220, blank=True)
    variant_title = models.CharField(max_length=200, blank=True)
    unit_amount = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    line_total = models.PositiveBigIntegerField()
    # Units in shipments (checkout/services/fulfilment.py); never more than ordered (constraint).
    quantity_shipped = models.PositiveIntegerField(default=0)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="checkout_orderitem_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_shipped__lte=models.F("quantity")),
                name="checkout_orderitem_shipped_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.label}"

    @property
    def label(self) -> str:
        """What the buyer saw on the payment page (as `checkout.pricing.PricedLine.label`)."""
        return f"{self.name} ({self.variant_title})" if self.variant_title else self.name

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])


class OrderEvent(models.Model):
    class Kind(models.TextChoices):
        STATUS = "status", "Status"  # a transition, or a note (from = to)
        SHIPPED = "shipped", "Shipped"  # a shipment was recorded (its status is unchanged)
        DELIVERED = "delivered", "Delivered"

    class Source(models.TextChoices):
        API = "api", "API"
        WEBHOOK = "webhook", "Webhook"
        ADMIN = "admin", "Admin"
        RECONCILE = "reconcile", "Reconciliation"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATUS)
    provider_event_id = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} ({self.source})"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])


class Refund(models.Model):
    """One refund at the payment provider, as it stands: only succeeded ones count in
    `Order.amount_refunded` (checkout/services/refunds.py keeps the two in step)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    provider_refund_id = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices)
    failure_reason = models.CharField(max_length=64, blank=True)
    # The staff member who asked for it; empty for refunds made at the provider (its dashboard).
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=1), name="checkout_refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_refund_id} {self.amount} {self.currency} ({self.status})"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])


# Shipping methods and shipments live in their own module (this one holds carts and orders).
from checkout.fulfilment_models import (  # noqa: E402
    FulfilmentStatus,
    Shipment,
    ShipmentItem,
    ShippingMethod,
    fulfilment_status_of,
)

__all__ = [
    "Cart",
    "CartItem",
    "FulfilmentStatus",
    "Order",
    "OrderEvent",
    "OrderItem",
    "Refund",
    "Shipment",
    "ShipmentItem",
    "ShippingMethod",
    "fulfilment_status_of",
]
