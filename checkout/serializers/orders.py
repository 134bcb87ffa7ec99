"""Order shapes (list, detail, confirm, cancel), the checkout body (a guest's email) and answer.

Orders, items and events build their dicts directly instead of going field by field through DRF,
and datetimes skip DRF's per-value timezone lookup (a page of 50 orders shapes 300 rows); the
declared fields stay the contract (the schema comes from them), and
`tests/checkout/test_order_serializers.py` compares both outputs key by key and byte by byte.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from checkout.fulfilment_models import FulfilmentStatus, fulfilment_status_of
from checkout.models import Order, OrderEvent, OrderItem
from checkout.serializers.dates import iso_or_none, iso_utc
from checkout.serializers.fulfilment import OrderShippingSerializer, ShipmentSerializer, order_shipping
from checkout.tokens import order_token_for

_GUEST_ORDER_HELP = (
    "A guest order's token: send it as `X-Order-Token` to read or cancel the order without an "
    "account. Null for a signed-in user's order."
)


class OrderItemSerializer(serializers.ModelSerializer[OrderItem]):
    class Meta:
        model = OrderItem
        fields = [
            "id",
            "product_id",
            "variant_id",
            "sku",
            "name",
            "variant_title",
            "unit_amount",
            "quantity",
            "line_total",
            "quantity_shipped",
        ]
        read_only_fields = fields

    def to_representation(self, instance: OrderItem) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "product_id": instance.product_id,
            "variant_id": instance.variant_id,
            "sku": instance.sku,
            "name": instance.name,
            "variant_title": instance.variant_title,
            "unit_amount": instance.unit_amount,
            "quantity": instance.quantity,
            "line_total": instance.line_total,
            "quantity_shipped": instance.quantity_shipped,
        }


class OrderEventSerializer(serializers.ModelSerializer[OrderEvent]):
    status = serializers.CharField(source="to_status", help_text="The status the order moved to.")

    class Meta:
        model = OrderEvent
        fields = ["status", "kind", "created_at", "source"]
        read_only_fields = fields

    def to_representation(self, instance: OrderEvent) -> dict[str, Any]:
        return {
            "status": instance.to_status,
            "kind": instance.kind,
            "created_at": iso_utc(instance.created_at),
            "source": instance.source,
        }


class OrderSerializer(serializers.ModelSerializer[Order]):
    """`{id, number, status, currency, total_amount, items, created_at, paid_at, events, ...}`."""

    items = OrderItemSerializer(many=True, read_only=True, source="item_list")
    events = OrderEventSerializer(
        many=True, read_only=True, source="event_list", help_text="Status history, oldest first."
    )
    order_token = serializers.SerializerMethodField(help_text=_GUEST_ORDER_HELP)
    shipping = serializers.SerializerMethodField(
        help_text="How and where it ships, from the payment page; null when nothing ships (or not paid yet)."
    )
    fulfilment_status = serializers.ChoiceField(
        choices=FulfilmentStatus.choices, read_only=True, help_text="From the items' shipped quantities."
    )
    shipments = ShipmentSerializer(
        many=True, read_only=True, source="shipment_list", help_text="Oldest first."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "currency",
            "total_amount",
            "subtotal_amount",
            "shipping_amount",
            "discount_amount",
            "tax_amount",
            "amount_refunded",
            "oversold",
            "items",
            "shipping",
            "fulfilment_status",
            "shipments",
            "checkout_url",
            "session_expires_at",
            "created_at",
            "updated_at",
            "paid_at",
            "events",
            "order_token",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_order_token(self, order: Order) -> str | None:
        return order_token_for(order)

    @extend_schema_field(OrderShippingSerializer(allow_null=True))
    def get_shipping(self, order: Order) -> dict[str, Any] | None:
        return order_shipping(order)

    def to_representation(self, instance: Order) -> dict[str, Any]:
        items, events, shipments = self.fields["items"], self.fields["events"], self.fields["shipments"]
        item_list = instance.item_list
        return {
            "id": str(instance.id),
            "number": instance.number,
            "status": instance.status,
            "currency": instance.currency,
            "total_amount": instance.total_amount,
            "subtotal_amount": instance.subtotal_amount,
            "shipping_amount": instance.shipping_amount,
            "discount_amount": instance.discount_amount,
            "tax_amount": instance.tax_amount,
            "amount_refunded": instance.amount_refunded,
            "oversold": instance.oversold,
            "items": items.to_representation(item_list),
            "shipping": order_shipping(instance),
            "fulfilment_status": fulfilment_status_of(item_list),
            "shipments": shipments.to_representation(instance.shipment_list),
            "checkout_url": instance.checkout_url,
            "session_expires_at": iso_or_none(instance.session_expires_at),
            "created_at": iso_utc(instance.created_at),
            "updated_at": iso_utc(instance.updated_at),
            "paid_at": iso_or_none(instance.paid_at),
            "events": events.to_representation(instance.event_list),
            "order_token": order_token_for(instance),
        }


class CheckoutStartSerializer(serializers.Serializer[Any]):
    """The body of a checkout: a guest's email (required for a guest cart; ignored for a user's)."""

    email = serializers.EmailField(
        required=False,
        max_length=254,
        help_text=(
            "Guest checkout only (required with `X-Cart-Token`): where the receipt goes; the order "
            "keeps it and the payment page is prefilled with it. Ignored for a signed-in user's cart."
        ),
    )


class OrderConfirmSerializer(serializers.Serializer[Any]):
    session_id = serializers.CharField(
        max_length=255, help_text="The `session_id` the payment provider put on the success URL."
    )


class CheckoutSerializer(serializers.Serializer[Any]):
    """The answer of a checkout: where to send the customer to pay."""

    order_id = serializers.UUIDField(source="id")
    order_number = serializers.CharField(source="number")
    session_id = serializers.CharField(source="provider_session_id")
    checkout_url = serializers.URLField()
    expires_at = serializers.DateTimeField(source="session_expires_at")
    order_token = serializers.SerializerMethodField(help_text=_GUEST_ORDER_HELP)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_order_token(self, order: Order) -> str | None:
        return order_token_for(order)
