"""Row-lock helpers for checkout: the one place that takes locks, so the order stays fixed.

Lock order across the project: the cart, then its orders, then products by pk. Every cart
write (add, update, remove a line) and the checkout take the cart lock first, so they
serialise per cart and cannot deadlock with each other.

An unevaluated `select_for_update()` queryset locks nothing: these helpers evaluate it.
They must run inside `transaction.atomic` (Django raises TransactionManagementError otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ValidationError

from checkout.models import Cart
from shopapi.exceptions import NotFoundError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

CART_NOT_FOUND_MESSAGE = "Cart not found."


def cart_for_update(*, cart_id: UUID, user: AbstractBaseUser | AnonymousUser) -> Cart:
    """Lock the caller's cart row (`SELECT ... FOR UPDATE OF` the cart only) and return it.

    Must run inside `transaction.atomic`. Raises `NotFoundError` (404, code `cart_not_found`)
    when the cart does not exist or belongs to someone else, so nothing leaks.
    """
    if user.pk is None:
        raise NotFoundError(CART_NOT_FOUND_MESSAGE, code="cart_not_found")
    try:
        return Cart.objects.select_for_update(of=("self",)).get(pk=cart_id, user_id=user.pk)
    except (Cart.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFoundError(CART_NOT_FOUND_MESSAGE, code="cart_not_found") from exc
