"""Order shapes: the direct `to_representation`s equal DRF's field-by-field output.

`checkout/serializers/orders.py` builds order, item and event dicts directly (the orders list was
the slowest API path); the declared fields remain the contract the schema is generated from.
These tests render both and compare them key by key and byte by byte, so a field added to one
and not the other, or a datetime rendered differently, fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from django.db.models import Model
from pytest_django import DjangoAssertNumQueries
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.models import User
from checkout.models import Order
from checkout.ownership import Owner
from checkout.selectors.orders import order_get_for_owner, orders_for_owner
from checkout.serializers.orders import (
    OrderEventSerializer,
    OrderItemSerializer,
    OrderSerializer,
    iso_utc,
)
from checkout.tokens import order_token_derive, order_token_hash
from tests.checkout.backoffice import make_order

pytestmark = pytest.mark.django_db


def _generic(serializer: serializers.Serializer, instance: Model) -> dict:
    """DRF's own field-by-field output for `serializer`, nested serializers included."""
    data = serializers.Serializer.to_representation(serializer, instance)
    for name in ("items", "events"):
        if name in data:
            # `items` and `events` are declared many=True: ListSerializers of a Serializer, by name
            child = cast(
                serializers.Serializer, cast("serializers.ListSerializer[Any]", serializer.fields[name]).child
            )
            rows = getattr(instance, cast(str, serializer.fields[name].source))
            data[name] = [serializers.Serializer.to_representation(child, row) for row in rows]
    return data


def _bytes(data: object) -> bytes:
    return JSONRenderer().render(data)


@pytest.mark.parametrize("status", [Order.Status.PENDING, Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED])
def test_order_dict_is_what_the_declared_fields_give(status: str) -> None:
    # given: an order as the API loads it, with and without paid_at / session expiry
    order = make_order(status=status, amount_refunded=1000 if status == "partially_refunded" else 0)
    Order.objects.filter(pk=order.pk).update(
        session_expires_at=datetime(2026, 11, 29, 18, 30, 15, 123456, tzinfo=UTC),
        checkout_url="https://checkout.stripe.com/c/pay/cs_test_x",
    )
    loaded = order_get_for_owner(order_id=order.pk, owner=cast(User, order.user))
    serializer = OrderSerializer()
    # when
    direct = serializer.to_representation(loaded)
    generic = _generic(serializer, loaded)
    # then
    assert list(direct) == list(serializer.fields)
    assert direct == generic
    assert _bytes(direct) == _bytes(generic)
    assert direct["items"]
    assert direct["events"]


def test_a_guest_orders_dict_with_its_token_is_what_the_declared_fields_give() -> None:
    # given: a guest order (no user; its order token's hash), read as its guest reads it
    order = make_order(status=Order.Status.PAID)
    Order.objects.filter(pk=order.pk).update(
        user=None, email="asha@example.com", token_hash=order_token_hash(order.pk)
    )
    loaded = order_get_for_owner(order_id=order.pk, owner=Owner(order_token_hash=order_token_hash(order.pk)))
    serializer = OrderSerializer()
    # when
    direct = serializer.to_representation(loaded)
    generic = _generic(serializer, loaded)
    # then
    assert direct == generic
    assert _bytes(direct) == _bytes(generic)
    assert direct["order_token"] == order_token_derive(order.pk)


def test_item_and_event_dicts_are_what_the_declared_fields_give() -> None:
    # given
    order = make_order()
    item, event = order.items.get(), order.events.first()
    # when / then
    row: Any  # an item for the item serializer, an event for the event serializer
    for serializer, row in ((OrderItemSerializer(), item), (OrderEventSerializer(), event)):
        direct = serializer.to_representation(row)
        generic = serializers.Serializer.to_representation(serializer, row)
        assert list(direct) == list(serializer.fields)
        assert _bytes(direct) == _bytes(generic)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 29, 15, 35, tzinfo=UTC),
        datetime(2026, 11, 29, 15, 35, 0, 7, tzinfo=UTC),
        datetime(2026, 11, 29, 21, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_datetimes_render_as_drf_renders_them(value: datetime) -> None:
    assert iso_utc(value) == serializers.DateTimeField().to_representation(value)


def test_an_order_loaded_without_the_selector_serializes_the_same(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given: the same order through the selector's prefetch and as a plain row
    order = make_order()
    prefetched = orders_for_owner(owner=cast(User, order.user)).get(pk=order.pk)
    plain = Order.objects.get(pk=order.pk)
    # when
    expected = OrderSerializer(prefetched).data
    with django_assert_num_queries(3):  # its items, events and shipments, one query each
        fallback = OrderSerializer(plain).data
    # then
    assert fallback == expected
