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

from catalog.models import ProductVariant
from catalog.stock import stock_check
from checkout import pricing
from checkout.models import Cart, CartItem, Order
from checkout.ownership import lock_owned_cart, owner_of
from checkout.states import OrderStatus
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
    return list(CartItem.objects.filter(cart=cart).select_related("product__category", "variant"))


def _line_not_found() -> NotFoundError:
    return NotFoundError("Cart line not found.", code=ErrorCode.CART_ITEM_NOT_FOUND)


def _pending_orders(cart: Cart) -> list[UUID]:
    """The cart's pending order (at most one): what it holds is the cart's own stock."""
    return list(Order.objects.filter(cart=cart, status=OrderStatus.PENDING).values_list("pk", flat=True))


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


def _variant_for(*, product_id: int | None, variant_id: int | None) -> tuple[ProductVariant, str]:
    """The active variant of an active product a line asks for, and the field that named it.

    `variant_id` wins; `product_id` alone is enough for a product with exactly one active variant
    (what clients from before variants send), else 400 naming `variant_id`.
    """
    active = ProductVariant.objects.select_related("product__category").filter(
        is_active=True, product__is_active=True
    )
    if variant_id is not None:
        variant = active.filter(pk=variant_id).first() if _is_pk(variant_id) else None
        if variant is None or (product_id is not None and variant.product_id != product_id):
            raise DomainError(
                f"Variant {variant_id} does not exist or is not for sale.",
                code=ErrorCode.PRODUCT_UNAVAILABLE,
                field="variant_id",
            )
        return variant, "variant_id"
    variants = list(active.filter(product_id=product_id)[:2]) if product_id and _is_pk(product_id) else []
    if not variants:
        raise DomainError(
            f"Product {product_id} does not exist or is not for sale.",
            code=ErrorCode.PRODUCT_UNAVAILABLE,
            field="product_id",
        )
    if len(variants) > 1:
        raise DomainError(
            f"Product {product_id} comes in several variants; choose one with variant_id.",
            code=ErrorCode.VARIANT_REQUIRED,
            field="variant_id",
        )
    return variants[0], "product_id"


def cart_item_add(
    *,
    cart_id: UUID,
    user: UserLike,
    quantity: int,
    product_id: int | None = None,
    variant_id: int | None = None,
) -> CartItem:
    """Add `quantity` of an active variant to the caller's open cart; adds to an existing line.

    The variant is `variant_id`, or the only active variant of `product_id`. Raises NotFoundError
    (not the caller's cart), ConflictError (`cart_checked_out`; `insufficient_stock` when the line
    would hold more than is available) and DomainError naming `variant_id`/`product_id`
    (unknown/inactive, several variants to choose from, other currency, a new line past
    CART_MAX_LINES) or `quantity` (out of range, line above CART_MAX_QUANTITY after the increment,
    amounts too large).
    """
    pricing.check_quantity(quantity)
    with transaction.atomic():
        cart = lock_owned_cart(cart_id=cart_id, user=user)
        _check_open(cart)
        variant, field = _variant_for(product_id=product_id, variant_id=variant_id)
        what = f"Variant {variant.pk}" if field == "variant_id" else f"Product {variant.product_id}"
        lines = _lines_of(cart)
        existing = next((line for line in lines if line.variant_id == variant.pk), None)
        priced = pricing.price_cart(lines)
        pricing.check_currency(what=what, currency=variant.currency, cart=priced, field=field)
        if existing is None:
            pricing.check_line_count(lines=len(lines), what=what, field=field)
        new_quantity = quantity + (existing.quantity if existing is not None else 0)
        pricing.check_line_quantity(new_quantity)
        others = pricing.price_cart(line for line in lines if line.variant_id != variant.pk)
        pricing.check_amounts(
            unit_amount=variant.unit_amount, quantity=new_quantity, other_lines_total=others.total_amount
        )
        stock_check(variant=variant, quantity=new_quantity, excluding=_pending_orders(cart))
        now = timezone.now()
        if existing is not None:
            CartItem.objects.filter(pk=existing.pk).update(quantity=F("quantity") + quantity, updated_at=now)
            item = CartItem.objects.get(pk=existing.pk)
        else:
            item = CartItem.objects.create(
                cart=cart, product=variant.product, variant=variant, quantity=quantity
            )
        _touch(cart)
    item.product = variant.product
    item.variant = variant
    return item


def cart_item_update(*, cart_id: UUID, item_id: int, user: UserLike, quantity: int) -> CartItem:
    """Set the quantity of one line of the caller's open cart.

    Raises NotFoundError (not the caller's cart or line), ConflictError (`cart_checked_out`,
    `insufficient_stock`), DomainError naming `quantity` (out of range, amounts too large).
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
            unit_amount=item.variant.unit_amount, quantity=quantity, other_lines_total=others.total_amount
        )
        if quantity > item.quantity:  # fewer units never need stock
            stock_check(variant=item.variant, quantity=quantity, excluding=_pending_orders(cart))
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
