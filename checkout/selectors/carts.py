"""Cart reads scoped to their owner (checkout/ownership.py: a user, a guest cart token, or both).

Every cart leaving here has its lines, their products and the products' categories prefetched
(two queries for one cart or a whole list), so serializing and pricing it (checkout/pricing.py)
costs no further queries. Anyone else's cart is indistinguishable from a missing one.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from checkout.models import Cart, CartItem
from checkout.ownership import OwnerLike, cart_not_found, carts_of


def _items_prefetch() -> Prefetch:
    return Prefetch(
        "items",
        queryset=CartItem.objects.select_related("product__category", "variant").order_by("created_at", "id"),
    )


def cart_list_for_owner(*, owner: OwnerLike) -> QuerySet[Cart]:
    """The owner's carts, newest first, with lines, products and categories prefetched."""
    return carts_of(owner).prefetch_related(_items_prefetch()).order_by("-created_at")


def cart_get_for_owner(*, cart_id: UUID | str, owner: OwnerLike) -> Cart:
    """The owner's cart with lines, products and categories prefetched; `NotFoundError` otherwise."""
    try:
        return cart_list_for_owner(owner=owner).get(pk=cart_id)
    except (Cart.DoesNotExist, ValidationError, ValueError) as exc:
        raise cart_not_found() from exc
