"""Order reads scoped to their owner, with items and events prefetched (constant query count)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from checkout.models import Order, OrderEvent, OrderItem
from checkout.ownership import order_not_found, orders_of, owner_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def orders_for_user(*, user: AbstractBaseUser | AnonymousUser, status: str | None = None) -> QuerySet[Order]:
    """The user's orders, newest first, with items and events prefetched (3 queries for any page).

    The prefetched rows are plain lists on `prefetched_items` / `prefetched_events` (read through
    `Order.item_list` / `Order.event_list`): a default prefetch builds a filtered queryset clone per
    order and relation to hold them, 100 clones for a page of 50.
    """
    qs = (
        orders_of(owner_of(user))
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id"), to_attr="prefetched_items"),
            Prefetch(
                "events",
                queryset=OrderEvent.objects.order_by("created_at", "id"),
                to_attr="prefetched_events",
            ),
        )
        .order_by("-created_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def order_get_for_user(*, order_id: UUID, user: AbstractBaseUser | AnonymousUser) -> Order:
    """One of the user's orders with items and events; `NotFoundError` (404) for anyone else's."""
    order = orders_for_user(user=user).filter(pk=order_id).first()
    if order is None:
        raise order_not_found()
    return order
