"""Shapes for shipping: the public shipping methods, an order's shipping details and its shipments.

Like the order shapes (orders.py), shipments and the shipping details build their dicts directly;
the declared fields are the contract the schema is generated from
(`tests/checkout/test_order_serializers.py` compares both).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from checkout.fulfilment_models import Shipment, ShipmentItem, ShippingMethod
from checkout.models import Order
from checkout.serializers.dates import iso_or_none, iso_utc

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "postal_code", "country")


class ShippingMethodSerializer(serializers.ModelSerializer[ShippingMethod]):
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2),
        help_text="Two-letter codes it ships to; empty: every country the shop ships to.",
    )
    min_days = serializers.IntegerField(
        allow_null=True, help_text="Delivery estimate: business days, at least."
    )
    max_days = serializers.IntegerField(
        allow_null=True, help_text="Delivery estimate: business days, at most."
    )

    class Meta:
        model = ShippingMethod
        fields = ["id", "name", "amount", "currency", "countries", "min_days", "max_days"]
        read_only_fields = fields


class ShippingMethodQuerySerializer(serializers.Serializer[Any]):
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        help_text="Only methods shipping to this country (ISO 3166-1 alpha-2, e.g. IN).",
        error_messages={"invalid": "Enter a two-letter country code (ISO 3166-1 alpha-2), e.g. IN."},
    )


class ShippingAddressSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField(help_text="Empty when not given.")
    city = serializers.CharField()
    state = serializers.CharField(help_text="Empty when not given.")
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")


class ShippingMethodRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(allow_null=True, help_text="Null when the method was deleted since.")
    name = serializers.CharField(help_text="As it was offered at checkout.")


class OrderShippingSerializer(serializers.Serializer[Any]):
    """Where and how a paid order ships, as the payment page collected it."""

    method = ShippingMethodRefSerializer(allow_null=True)
    address = ShippingAddressSerializer(allow_null=True)


def order_shipping(order: Order) -> dict[str, Any] | None:
    """`{method, address}` for an order that ships, else None (nothing to ship, or not paid)."""
    return shipping_data(order.shipping_method_id, order.shipping_method_name, order.shipping_address)


def shipping_data(method_id: int | None, method_name: str, address: Any) -> dict[str, Any] | None:
    """`order_shipping` from the order's shipping columns (for reads without an instance)."""
    if address is None and not method_name:
        return None
    return {
        "method": {"id": method_id, "name": method_name} if method_name else None,
        "address": {field: str(address.get(field) or "") for field in ADDRESS_FIELDS} if address else None,
    }


class ShipmentItemSerializer(serializers.ModelSerializer[ShipmentItem]):
    class Meta:
        model = ShipmentItem
        fields = ["order_item_id", "quantity"]
        read_only_fields = fields

    def to_representation(self, instance: ShipmentItem) -> dict[str, Any]:
        return {"order_item_id": instance.order_item_id, "quantity": instance.quantity}


class ShipmentSerializer(serializers.ModelSerializer[Shipment]):
    items = ShipmentItemSerializer(many=True, read_only=True, source="item_list")

    class Meta:
        model = Shipment
        fields = ["id", "carrier", "tracking_number", "tracking_url", "shipped_at", "delivered_at", "items"]
        read_only_fields = fields

    def to_representation(self, instance: Shipment) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "carrier": instance.carrier,
            "tracking_number": instance.tracking_number,
            "tracking_url": instance.tracking_url,
            "shipped_at": iso_utc(instance.shipped_at),
            "delivered_at": iso_or_none(instance.delivered_at),
            "items": [
                {"order_item_id": row.order_item_id, "quantity": row.quantity} for row in instance.item_list
            ],
        }
