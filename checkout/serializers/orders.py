"""Order shapes (list, detail, confirm, cancel), the checkout answer and the webhook acknowledgement."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from checkout.models import Order, OrderEvent, OrderItem


class OrderItemSerializer(serializers.ModelSerializer[OrderItem]):
    class Meta:
        model = OrderItem
        fields = ["product_id", "name", "unit_amount", "quantity", "line_total"]
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer[OrderEvent]):
    status = serializers.CharField(source="to_status", help_text="The status the order moved to.")

    class Meta:
        model = OrderEvent
        fields = ["status", "created_at", "source"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer[Order]):
    """`{id, number, status, currency, total_amount, items, created_at, paid_at, events, ...}`."""

    items = OrderItemSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True, help_text="Status history, oldest first.")

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "currency",
            "total_amount",
            "amount_refunded",
            "items",
            "checkout_url",
            "session_expires_at",
            "created_at",
            "updated_at",
            "paid_at",
            "events",
        ]
        read_only_fields = fields


class OrderConfirmSerializer(serializers.Serializer[Any]):
    session_id = serializers.CharField(
        max_length=255, help_text="The `session_id` Stripe put on the success URL."
    )


class CheckoutSerializer(serializers.Serializer[Any]):
    """The answer of a checkout: where to send the customer to pay."""

    order_id = serializers.UUIDField(source="id")
    order_number = serializers.CharField(source="number")
    session_id = serializers.CharField(source="stripe_session_id")
    checkout_url = serializers.URLField()
    expires_at = serializers.DateTimeField(source="session_expires_at")


class WebhookAckSerializer(serializers.Serializer[Any]):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(required=False, help_text="True when this event id was seen before.")
    ignored = serializers.BooleanField(
        required=False, help_text="True for an event type shopapi does not act on."
    )
