"""Shipping methods offered at checkout, and the shipments staff record for paid orders.

- `ShippingMethod`: what the payment page offers when the cart needs shipping (a fixed amount in
  the cart's currency, an optional delivery estimate in business days, the countries it serves;
  empty = every country of `SHIPPING_COUNTRIES`). Staff manage them in the admin.
- `Shipment` + `ShipmentItem`: units of an order's items handed to a carrier. Each item's
  `OrderItem.quantity_shipped` is kept in step in the same transaction and may never exceed the
  quantity ordered (a check constraint), so no interleaving can ship an item twice
  (checkout/services/fulfilment.py also locks the order first).

Shipments are never deleted (PROTECT, and their managers refuse deletion).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from catalog.models import default_currency
from shopapi.managers import NonDeletableManager, deletion_refused

if TYPE_CHECKING:
    from checkout.models import OrderItem


class FulfilmentStatus(models.TextChoices):
    UNFULFILLED = "unfulfilled", "Unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
    FULFILLED = "fulfilled", "Fulfilled"


def fulfilment_status_of(items: Iterable[OrderItem]) -> str:
    """`fulfilled` when every unit is shipped, `partially_fulfilled` when some are, else `unfulfilled`."""
    ordered = shipped = 0
    for item in items:
        ordered += item.quantity
        shipped += item.quantity_shipped
    return fulfilment_status_for(ordered=ordered, shipped=shipped)


def fulfilment_status_for(*, ordered: int, shipped: int) -> str:
    """`fulfilment_status_of` from the units ordered and shipped, summed over the items."""
    if shipped == 0:
        return FulfilmentStatus.UNFULFILLED
    return FulfilmentStatus.FULFILLED if shipped >= ordered else FulfilmentStatus.PARTIALLY_FULFILLED


COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def country_codes_validate(value: Any) -> None:
    """A list of upper-case ISO 3166-1 alpha-2 codes."""
    if not isinstance(value, list) or not all(isinstance(c, str) and COUNTRY_CODE.match(c) for c in value):
        raise ValidationError('Enter a list of two-letter country codes, e.g. ["IN", "US"].')


class ShippingMethod(models.Model):
    name = models.CharField(max_length=100, help_text="Shown on the payment page, e.g. “Standard”.")
    amount = models.PositiveIntegerField(help_text="Price in minor units (paise for INR); 0 = free.")
    currency = models.CharField(max_length=3, default=default_currency)
    countries = models.JSONField(
        blank=True,
        default=list,
        validators=[country_codes_validate],
        help_text='Two-letter codes it serves, e.g. ["IN", "US"]; empty = all.',
    )
    min_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Business days, at least.")
    max_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Business days, at most.")
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower first on the payment page.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="checkout_shipping_currency_lower_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(min_days__isnull=True)
                | models.Q(max_days__isnull=True)
                | models.Q(min_days__lte=models.F("max_days")),
                name="checkout_shipping_days_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.amount} {self.currency})"

    def serves(self, country: str) -> bool:
        """Whether it ships to `country` (every country when it names none)."""
        return not self.countries or country.upper() in self.countries


class Shipment(models.Model):
    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The staff member who recorded it (like `Refund.requested_by`).
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["shipped_at", "id"]

    def __str__(self) -> str:
        return f"Shipment {self.pk} ({self.carrier or 'no carrier'} {self.tracking_number})".strip()

    @property
    def item_list(self) -> list[ShipmentItem]:
        return list(self.items.all())

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="items")
    order_item = models.ForeignKey(
        "checkout.OrderItem", on_delete=models.PROTECT, related_name="shipment_items"
    )
    quantity = models.PositiveIntegerField()

    objects = NonDeletableManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="checkout_shipmentitem_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["shipment", "order_item"], name="checkout_shipmentitem_unique_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x item {self.order_item_id}"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])
