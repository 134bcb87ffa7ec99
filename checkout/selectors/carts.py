"""Cart reads scoped to their owner, and the pure totals computation shared with checkout.

Every cart leaving here has its lines, their products and the products' categories
prefetched (two queries for one cart or a whole list), so serializing it and computing its
totals costs no further queries. Anyone else's cart is indistinguishable from a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from checkout.models import Cart, CartItem
from shopapi.exceptions import NotFoundError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

CART_NOT_FOUND_MESSAGE = "Cart not found."


@dataclass(frozen=True)
class CartLine:
    """One line priced at the product's current price (what checkout snapshots)."""

    item_id: int
    product_id: int
    name: str
    unit_amount: int
    currency: str
    quantity: int
    line_total: int


@dataclass(frozen=True)
class CartTotals:
    """Totals of a cart at current product prices.

    `item_count` is the sum of line quantities (what a cart badge shows), not the number of
    lines. `currency` is the lines' currency, or `settings.DEFAULT_CURRENCY` for an empty cart.
    """

    total_amount: int
    currency: str
    item_count: int
    lines: tuple[CartLine, ...]

    @property
    def currencies(self) -> frozenset[str]:
        """Every currency among the lines; more than one only if staff changed a product's currency."""
        return frozenset(line.currency for line in self.lines)


def _items_prefetch() -> Prefetch:
    return Prefetch(
        "items",
        queryset=CartItem.objects.select_related("product__category").order_by("created_at", "id"),
    )


def cart_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Cart]:
    """The user's carts, newest first, with lines, products and categories prefetched."""
    if user.pk is None:
        return Cart.objects.none()
    return Cart.objects.filter(user_id=user.pk).prefetch_related(_items_prefetch()).order_by("-created_at")


def cart_get_for_user(*, cart_id: UUID | str, user: AbstractBaseUser | AnonymousUser) -> Cart:
    """The user's cart with lines, products and categories prefetched; `NotFoundError` otherwise."""
    try:
        return cart_list_for_user(user=user).get(pk=cart_id)
    except (Cart.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFoundError(CART_NOT_FOUND_MESSAGE, code="cart_not_found") from exc


def cart_line(item: CartItem) -> CartLine:
    """Price one line at its product's current price (the product must be loaded)."""
    product = item.product
    return CartLine(
        item_id=item.pk,
        product_id=product.pk,
        name=product.name,
        unit_amount=product.unit_amount,
        currency=product.currency,
        quantity=item.quantity,
        line_total=product.unit_amount * item.quantity,
    )


def cart_totals(cart: Cart) -> CartTotals:
    """Pure: totals of a cart whose lines and products are prefetched (no queries then)."""
    lines = tuple(cart_line(item) for item in cart.items.all())
    currency = lines[0].currency if lines else str(settings.DEFAULT_CURRENCY)
    return CartTotals(
        total_amount=sum(line.line_total for line in lines),
        currency=currency,
        item_count=sum(line.quantity for line in lines),
        lines=lines,
    )
