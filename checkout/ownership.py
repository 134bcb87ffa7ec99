"""Who may touch a cart or an order: the one place that reads "whose is it".

Today the owner is a signed-in user; guest carts will be another kind of owner here, and every
service and selector that scopes by owner follows. Anyone else's cart or order is
indistinguishable from a missing one (404, never 403), so nothing leaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from checkout.locks import lock_cart
from checkout.models import Cart, Order
from shopapi.errors import ErrorCode
from shopapi.exceptions import NotFoundError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet

CART_NOT_FOUND_MESSAGE = "Cart not found."
ORDER_NOT_FOUND_MESSAGE = "Order not found."


@dataclass(frozen=True)
class Owner:
    """The caller as an owner of carts and orders (None: owns nothing)."""

    user_id: int | None


def owner_of(user: AbstractBaseUser | AnonymousUser) -> Owner:
    """The owner a request's user is (an anonymous user owns nothing)."""
    pk = user.pk
    return Owner(user_id=int(pk) if pk is not None else None)


def carts_of(owner: Owner) -> QuerySet[Cart]:
    if owner.user_id is None:
        return Cart.objects.none()
    return Cart.objects.filter(user_id=owner.user_id)


def orders_of(owner: Owner) -> QuerySet[Order]:
    if owner.user_id is None:
        return Order.objects.none()
    return Order.objects.filter(user_id=owner.user_id)


def cart_not_found() -> NotFoundError:
    return NotFoundError(CART_NOT_FOUND_MESSAGE, code=ErrorCode.CART_NOT_FOUND)


def order_not_found() -> NotFoundError:
    return NotFoundError(ORDER_NOT_FOUND_MESSAGE, code=ErrorCode.ORDER_NOT_FOUND)


def lock_owned_cart(*, cart_id: UUID | str, user: AbstractBaseUser | AnonymousUser) -> Cart:
    """Lock the caller's cart row and return it; `NotFoundError` (404) for anyone else's.

    Must run inside `transaction.atomic`.
    """
    cart = lock_cart(cart_id, within=carts_of(owner_of(user)))
    if cart is None:
        raise cart_not_found()
    return cart
