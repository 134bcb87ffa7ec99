"""Order shapes (list, detail, confirm, cancel), the checkout body (a guest's email) and answer.

Orders, items and events build their dicts directly instead of going field by field through DRF,
and datetimes skip DRF's per-value timezone lookup (a page of 50 orders shapes 300 rows); the
declared fields stay the contract (the schema comes from them), and
`tests/checkout/test_order_serializers.py` compares both outputs key by key and byte by byte.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from checkout.models import Order, OrderEvent, OrderItem
from checkout.tokens import order_token_for

_GUEST_ORDER_HELP = (
    "A guest order's token: send it as `X-Order-Token` to read or cancel the order without an "
    "account. Null for a signed-in user's order."
)


def iso_utc(value: datetime) -> str:
    """What DRF's `DateTimeField` renders with `TIME_ZONE = "UTC"`: ISO 8601, `Z` for UTC."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class OrderItemSerializer(serializers.ModelSerializer[OrderItem]):
    class Meta:
        model = OrderItem
        fields = [
            "product_id",
            "variant_id",
            "sku",
            "name",
            "variant_title",
            "unit_amount",
            "quantity",
            "line_total",
        ]
        read_only_fields = fields

    def to_representation(self, instance: OrderItem) -> dict[str, Any]:
        return {
            "product_id": instance.product_id,
            "variant_id": instance.variant_id,
            "sku": instance.sku,
            "name": instance.name,
            "variant_title": instance.variant_title,
            "unit_amount": instance.unit_amount,
            "quantity": instance.quantity,
            "line_total": instance.line_total,
        }


class OrderEventSerializer(serializers.ModelSerializer[OrderEvent]):
    status = serializers.CharField(source="to_status", help_text="The status the order moved to.")

    class Meta:
        model = OrderEvent
        fields = ["status", "created_at", "source"]
        read_only_fields = fields

    def to_representation(self, instance: OrderEvent) -> dict[str, Any]:
        return {
            "status": instance.to_status,
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

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "currency",
            "total_amount",
            "amount_refunded",
            "oversold",
            "items",
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

    def to_representation(self, instance: Order) -> dict[str, Any]:
        items, events = self.fields["items"], self.fields["events"]
        return {
            "id": str(instance.id),
            "number": instance.number,
            "status": instance.status,
            "currency": instance.currency,
            "total_amount": instance.total_amount,
            "amount_refunded": instance.amount_refunded,
            "oversold": instance.oversold,
            "items": items.to_representation(instance.item_list),
            "checkout_url": instance.checkout_url,
            "session_expires_at": _iso_or_none(instance.session_expires_at),
            "created_at": iso_utc(instance.created_at),
            "updated_at": iso_utc(instance.updated_at),
            "paid_at": _iso_or_none(instance.paid_at),
            "events": events.to_representation(instance.event_list),
            "order_token": order_token_for(instance),
        }


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso_utc(value)


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
