"""Cart writes: open a cart (a user's, or a guest's with its token), add, update and remove lines.

Each service owns its transaction. Line writes take the caller's cart row lock first
(`checkout.ownership.lock_owned_cart`), so they serialise with each other and with checkout
for the same cart; every rule (checkout/pricing.py) is checked before anything is written, so a
failure leaves the cart exactly as it was. Prices are never taken from the client: limits are
checked against the products' current prices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from catalog.models import ProductVariant
from catalog.stock import stock_check
from checkout import pricing
from checkout.models import Cart, CartItem, Order
from checkout.ownership import Owner, OwnerLike, guest_cart_of, lock_owned_cart, owner_of
from checkout.states import OrderStatus
from checkout.tokens import cart_token_new
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, NotFoundError

# The largest value a PostgreSQL bigint primary key can hold; larger ids cannot exist.
_MAX_PK = 2**63 - 1


def _check_open(cart: Cart) -> None:
    if cart.status != Cart.Status.OPEN:
        raise ConflictError(
            "This cart is checked out and can no longer change.", code=ErrorCode.CART_CHECKED_OUT
        )


def _is_pk(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_PK


def cart_lines(cart: Cart) -> list[CartItem]:
    """The cart's lines with their products, categories and variants (in line order)."""
    return list(CartItem.objects.filter(cart=cart).select_related("product__category", "variant"))


def _line_not_found() -> NotFoundError:
    return NotFoundError("Cart line not found.", code=ErrorCode.CART_ITEM_NOT_FOUND)


def cart_pending_orders(cart: Cart) -> list[UUID]:
    """The cart's pending order (at most one): what it holds is the cart's own stock."""
    return list(Order.objects.filter(cart=cart, status=OrderStatus.PENDING).values_list("pk", flat=True))


def cart_touch(cart: Cart) -> None:
    """The cart changed now (`updated_at`: what the guest-cart purge measures age by)."""
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


def cart_get_or_create_open(*, owner: OwnerLike) -> tuple[Cart, bool]:
    """The user's open cart and False, or a new open cart and True.

    Race-safe: the partial unique constraint allows one open cart per user; the loser of a
    concurrent create catches the IntegrityError in a savepoint and returns the winner's cart.
    """
    user_id = owner_of(owner).user_id
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


@dataclass(frozen=True)
class OpenCart:
    cart: Cart
    created: bool
    owner: Owner  # the caller, holding the new guest cart's token when one was made
    token: str | None = None  # a new guest cart's token: shown once, never stored


def cart_open(*, owner: OwnerLike) -> OpenCart:
    """The caller's open cart, or a new one (`POST /carts/`).

    A user gets their one open cart (`cart_get_or_create_open`). A guest whose `X-Cart-Token` names
    an open guest cart gets that cart back; any other guest gets a new guest cart and its token
    (checkout/tokens.py), the only time the token is ever shown.
    """
    who = owner_of(owner)
    if who.is_user:
        cart, created = cart_get_or_create_open(owner=who)
        return OpenCart(cart=cart, created=created, owner=who)
    existing = guest_cart_of(who).filter(status=Cart.Status.OPEN).first()
    if existing is not None:
        return OpenCart(cart=existing, created=False, owner=who)
    token, token_hash = cart_token_new()
    cart = Cart.objects.create(token_hash=token_hash)
    return OpenCart(cart=cart, created=True, owner=replace(who, cart_token_hash=token_hash), token=token)


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
    owner: OwnerLike,
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
        cart = lock_owned_cart(cart_id=cart_id, owner=owner)
        _check_open(cart)
        variant, field = _variant_for(product_id=product_id, variant_id=variant_id)
        what = f"Variant {variant.pk}" if field == "variant_id" else f"Product {variant.product_id}"
        lines = cart_lines(cart)
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
        if variant.stock_on_hand is not None:  # untracked stock needs no check (nor its query)
            stock_check(variant=variant, quantity=new_quantity, excluding=cart_pending_orders(cart))
        now = timezone.now()
        if existing is not None:
            CartItem.objects.filter(pk=existing.pk).update(quantity=F("quantity") + quantity, updated_at=now)
            item = CartItem.objects.get(pk=existing.pk)
        else:
            item = CartItem.objects.create(
                cart=cart, product=variant.product, variant=variant, quantity=quantity
            )
        cart_touch(cart)
    item.product = variant.product
    item.variant = variant
    return item


def cart_item_update(*, cart_id: UUID, item_id: int, owner: OwnerLike, quantity: int) -> CartItem:
    """Set the quantity of one line of the caller's open cart.

    Raises NotFoundError (not the caller's cart or line), ConflictError (`cart_checked_out`,
    `insufficient_stock`), DomainError naming `quantity` (out of range, amounts too large).
    """
    pricing.check_quantity(quantity)
    with transaction.atomic():
        cart = lock_owned_cart(cart_id=cart_id, owner=owner)
        lines = cart_lines(cart)
        item = next((line for line in lines if line.pk == item_id), None)
        if item is None:
            raise _line_not_found()
        _check_open(cart)
        others = pricing.price_cart(line for line in lines if line != item)
        pricing.check_amounts(
            unit_amount=item.variant.unit_amount, quantity=quantity, other_lines_total=others.total_amount
        )
        if (
            quantity > item.quantity and item.variant.stock_on_hand is not None
        ):  # fewer or untracked: no check
            stock_check(variant=item.variant, quantity=quantity, excluding=cart_pending_orders(cart))
        CartItem.objects.filter(pk=item.pk).update(quantity=quantity, updated_at=timezone.now())
        item.refresh_from_db(fields=["quantity", "updated_at"])
        cart_touch(cart)
    return item


def cart_item_remove(*, cart_id: UUID, item_id: int, owner: OwnerLike) -> None:
    """Delete one line of the caller's open cart.

    Raises NotFoundError (not the caller's cart or line), ConflictError (`cart_checked_out`).
    """
    with transaction.atomic():
        cart = lock_owned_cart(cart_id=cart_id, owner=owner)
        if not _is_pk(item_id) or not CartItem.objects.filter(cart=cart, pk=item_id).exists():
            raise _line_not_found()
        _check_open(cart)
        CartItem.objects.filter(cart=cart, pk=item_id).delete()
        cart_touch(cart)


PURGE_BATCH_SIZE = 500


def guest_carts_purge(*, older_than: timedelta) -> int:
    """Delete guest carts (no user) that have no orders and were last changed before `older_than`
    ago, lines included; how many. Idempotent and safe while serving: each batch locks its carts
    (skipping any a checkout or cart write holds) and re-checks that no order appeared before it
    deletes them, so a cart that is being checked out right now is never deleted under it."""
    cutoff = timezone.now() - older_than
    has_orders = Exists(Order.objects.filter(cart=OuterRef("pk")))
    deleted = 0
    while True:
        with transaction.atomic():
            stale = Cart.objects.filter(user__isnull=True, updated_at__lt=cutoff).filter(~has_orders)
            ids = list(
                stale.select_for_update(of=("self",), skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:PURGE_BATCH_SIZE]
            )
            if not ids:
                return deleted
            deleted += (
                Cart.objects.filter(pk__in=ids).filter(~has_orders).delete()[1].get(Cart._meta.label, 0)
            )
