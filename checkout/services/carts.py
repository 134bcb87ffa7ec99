"""Cart writes: get-or-create the open cart, add, update and remove lines.

Each service owns its transaction. Line writes take the caller's cart row lock first
(`checkout.ownership.lock_owned_cart`), so they serialise with each other and with checkout
for the same cart; every rule (checkout/pricing.py) is checked before anything is written, so a
failure leaves the cart exactly as it was. Prices are never taken from the client: limits are
checked against the products' current prices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from checkout import pricing
from checkout.models import Cart, CartItem
from checkout.ownership import lock_owned_cart, owner_of
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, NotFoundError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    UserLike = AbstractBaseUser | AnonymousUser

# The largest value a PostgreSQL bigint primary key can hold; larger ids cannot exist.
_MAX_PK = 2**63 - 1


def _check_open(cart: Cart) -> None:
    if cart.status != Cart.Status.OPEN:
        raise ConflictError(
            "This cart is checked out and can no longer change.", code=ErrorCode.CART_CHECKED_OUT
        )


def _is_pk(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_PK


def _lines_of(cart: Cart) -> list[CartItem]:
    return list(CartItem.objects.filter(cart=cart).select_related("product__category"))


def _line_not_found() -> NotFoundError:
    return NotFoundError("Cart line not found.", code=ErrorCode.CART_ITEM_NOT_FOUND)


def _touch(cart: Cart) -> None:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


def cart_get_or_create_open(*, user: UserLike) -> tuple[Cart, bool]:
    """The user's open cart and False, or a new open cart and True.

    Race-safe: the partial unique constraint allows one open cart per user; the loser of a
    concurrent create catches the IntegrityError in a savepoint and returns the winner's cart.
    """
    user_id = owner_of(user).user_id
    if user_id is None:
        raise DomainError("Authentication is required.", code=ErrorCode.NOT_AUTHENTICATED, status_code=401)
    with transaction.atomic():
        existing = Cart.objects.filter(user_id=user_id, status=Cart.Status.OPEN).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                return Cart.objects.create(user_id=user_id), True
        except IntegrityError:
            # The competing insert has committed (the unique index waited for it), so a fresh
            # statement sees it.
            return Cart.objects.get(user_id=user_id, status=Cart.Status.OPEN), False


def cart_item_add(*, cart_id: UUID, user: UserLike, product_id: int, quantity: int) -> CartItem:
    """Add `quantity` of an active product to the caller's open cart; adds to an existing line.

    Raises NotFoundError (not the caller's cart), ConflictError (`cart_checked_out`) and
    DomainError naming `product_id` (unknown/inactive product, other currency, a new line past
    CART_MAX_LINES) or `quantity`
    (out of range, line above CART_MAX_QUANTITY after the increment, amounts too large).
    """
    pricing.check_quantity(quantity)
    with transaction.atomic():
        cart = lock_owned_cart(cart_id=cart_id, user=user)
        _check_open(cart)
        product = None
        if _is_pk(product_id):
            product = Product.objects.select_related("category").filter(pk=product_id, is_active=True).first()
        if product is None:
            raise DomainError(
                f"Product {product_id} does not exist or is not for sale.",
                code=ErrorCode.PRODUCT_UNAVAILABLE,
                field="product_id",
            )
        lines = _lines_of(cart)
        existing = next((line for line in lines if line.product_id == product.pk), None)
        priced = pricing.price_cart(lines)
        pricing.check_currency(product_id=product.pk, currency=product.currency, cart=priced)
        if existing is None:
            pricing.check_line_count(lines=len(lines), product_id=product.pk)
        new_quantity = quantity + (existing.quantity if existing is not None else 0)
        pricing.check_line_quantity(new_quantity)
        others = pricing.price_cart(line for line in lines if line.product_id != product.pk)
        pricing.check_amounts(
            unit_amount=product.unit_amount, quantity=new_quantity, other_lines_total=others.total_amount
        )
        now = timezone.now()
        if existing is not None:
            CartItem.objects.filter(pk=existing.pk).update(quantity=F("quantity") + quantity, updated_at=now)
            item = CartItem.objects.get(pk=existing.pk)
        else:
            item = CartItem.objects.create(cart=cart, product=product, quantity=quantity)
        _touch(cart)
    item.product = product
    return item


def cart_item_update(*, cart_id: UUID, item_id: int, user: UserLike, quantity: int) -> CartItem:
    """Set the quantity of one line of the caller's open cart.

    Raises NotFoundError (not the caller's cart or line), ConflictError (`cart_checked_out`),
    DomainError naming `quantity` (out of range, amounts too large).
    """
    pricing.check_quantity(quantity)
    with transaction.atomic():
        cart = lock_owned_cart(cart_id=cart_id, user=user)
        lines = _lines_of(cart)
        item = next((line for line in lines if line.pk == item_id), None)
        if item is None:
            raise _line_not_found()
        _check_open(cart)
        others = pricing.price_cart(line for line in lines if line != item)
        pricing.check_amounts(
            unit_amount=item.product.unit_amount, quantity=quantity, other_lines_total=others.total_amount
        )
        CartItem.objects.filter(pk=item.pk).update(quantity=quantity, updated_at=timezone.now())
        item.refresh_from_db(fields=["quantity", "updated_at"])
        _touch(cart)
    return item


def cart_item_remove(*, cart_id: UUID, item_id: int, user: UserLike) -> None:
    """Delete one line of the caller's open cart.

    Raises NotFoundError (not the caller's cart or line), ConflictError (`cart_checked_out`).
    """
    with transaction.atomic():
        cart = lock_owned_cart(cart_id=cart_id, user=user)
        if not _is_pk(item_id) or not CartItem.objects.filter(cart=cart, pk=item_id).exists():
            raise _line_not_found()
        _check_open(cart)
        CartItem.objects.filter(cart=cart, pk=item_id).delete()
        _touch(cart)
