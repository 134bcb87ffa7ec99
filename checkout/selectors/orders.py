"""Order reads scoped to their owner, with items, events and shipments prefetched (constant query count).

Whose orders they are is checkout/ownership.py's answer (a user's, a guest order by its token,
and the guest orders attached to a verified email).
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from checkout.models import Order, OrderEvent, OrderItem, Shipment
from checkout.ownership import OwnerLike, order_not_found, orders_of


def orders_with_children(orders: QuerySet[Order]) -> QuerySet[Order]:
    """`orders`, newest first, with items, events and shipments prefetched (4 queries for any
    page; 5 when a shipment is among them: its items).

    The prefetched rows are plain lists on `prefetched_items` / `prefetched_events` (read through
    `Order.item_list` / `Order.event_list`): a default prefetch builds a filtered queryset clone per
    order and relation to hold them, 100 clones for a page of 50.
    """
    return orders.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id"), to_attr="prefetched_items"),
        Prefetch(
            "events",
            queryset=OrderEvent.objects.order_by("created_at", "id"),
            to_attr="prefetched_events",
        ),
        Prefetch(
            "shipments",
            queryset=Shipment.objects.prefetch_related("items").order_by("shipped_at", "id"),
            to_attr="prefetched_shipments",
        ),
    ).order_by("-created_at", "-id")


def order_list_for_owner(*, owner: OwnerLike, status: str | None = None) -> QuerySet[Order]:
    """The owner's orders, newest first, nothing prefetched: the orders list and detail read them
    as rows with their children in the same query (checkout/serializers/order_rows.py)."""
    qs = orders_of(owner).order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return qs


def orders_for_owner(*, owner: OwnerLike, status: str | None = None) -> QuerySet[Order]:
    """The owner's orders, newest first, with items and events prefetched."""
    qs = orders_with_children(orders_of(owner))
    if status:
        qs = qs.filter(status=status)
    return qs


def order_get_for_owner(*, order_id: UUID, owner: OwnerLike) -> Order:
    """One of the owner's orders with items and events; `NotFoundError` (404) for anyone else's."""
    order = orders_for_owner(owner=owner).filter(pk=order_id).first()
    if order is None:
        raise order_not_found()
    return order
