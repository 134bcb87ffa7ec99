"""Claim a guest cart on sign-in: merge it into the user's open cart, once.

`POST /carts/{id}/claim/` with the user's JWT and the guest cart's `X-Cart-Token`:
- the user's open cart is found or created (`cart_get_or_create_open`), then BOTH carts are
  locked in one statement, in cart-id order (`checkout.locks.lock_carts`), inside the caller's
  ownership (`carts_of`). A concurrent claim of the same guest cart waits for the lock and then
  no longer finds it (it is `merged`, which PostgreSQL re-checks after the wait): 404, as for any
  token that stopped working. So a guest cart is merged exactly once and quantities never double;
- a guest cart with a pending order is refused (409 `cart_has_pending_order`): that order holds
  its stock and may still be paid; it can be claimed once the order is settled or cancelled.
  A checked-out guest cart is 409 `cart_checked_out`;
- every guest line joins the user's cart: onto the user's line of the same variant (quantities
  added) or as a new line. Each is capped, never refused: at the line maximum
  (`pricing.max_quantity()`), at what is available (catalog/stock.py; what the user's own pending
  order holds counts as the user's, as for a cart write) and within the largest order amount. A
  new line past CART_MAX_LINES, a variant no longer for sale or one in another currency than the
  user's cart is not added. The user's own lines are never lowered. Every line that was capped or
  left out is reported in `capped`, with the reason;
- the guest cart becomes `merged`; its token stops working (`checkout.ownership`).

Carts reserve nothing, so the stock check here takes no variant locks (as `cart_item_add`):
checkout re-checks every line under the variants' locks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from catalog.stock import available_quantity, held_by_others
from checkout import pricing
from checkout.locks import lock_carts
from checkout.models import Cart, CartItem, Order
from checkout.ownership import OwnerLike, cart_not_found, carts_of, guest_cart_of, owner_of
from checkout.services.carts import cart_get_or_create_open, cart_lines, cart_pending_orders, cart_touch
from checkout.states import OrderStatus
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError


class CapReason(enum.StrEnum):
    """Why a guest line joined the user's cart with fewer units than asked for, or not at all."""

    MAX_QUANTITY = "max_quantity"  # the line maximum (CART_MAX_QUANTITY)
    INSUFFICIENT_STOCK = "insufficient_stock"  # no more is available
    ORDER_TOO_LARGE = "order_too_large"  # more would take the cart above MAX_ORDER_AMOUNT
    CART_TOO_MANY_LINES = "cart_too_many_lines"  # a new line past CART_MAX_LINES: not added
    PRODUCT_UNAVAILABLE = "product_unavailable"  # no longer for sale: not added
    CURRENCY_MISMATCH = "currency_mismatch"  # priced in another currency than the cart: not added


# The values, in declaration order: the schema's `CapReasonEnum` (settings.SPECTACULAR_SETTINGS).
CAP_REASONS = [reason.value for reason in CapReason]


@dataclass(frozen=True)
class CappedLine:
    variant_id: int
    sku: str
    name: str
    requested: int  # what the user's line would hold with every guest unit added
    quantity: int  # what it holds now (0: there is no such line)
    reason: CapReason
    message: str


@dataclass(frozen=True)
class ClaimResult:
    cart: Cart  # the user's open cart, with the guest lines in it
    capped: list[CappedLine]


def cart_claim(*, cart_id: UUID, owner: OwnerLike) -> ClaimResult:
    """Merge the guest cart (its token) into the signed-in caller's open cart; see the module docstring."""
    who = owner_of(owner)
    if not who.is_user:
        raise DomainError("Authentication is required.", code=ErrorCode.NOT_AUTHENTICATED, status_code=401)
    with transaction.atomic(durable=True):
        guest_id = guest_cart_of(who).filter(pk=cart_id).values_list("pk", flat=True).first()
        if guest_id is None:
            raise cart_not_found()
        target, _ = cart_get_or_create_open(owner=who)
        locked = lock_carts([guest_id, target.pk], within=carts_of(who))
        guest, mine = locked.get(guest_id), locked.get(target.pk)
        if guest is None:  # merged by a concurrent claim while this one waited for the lock
            raise cart_not_found()
        if guest.status != Cart.Status.OPEN:
            raise ConflictError("This guest cart is checked out.", code=ErrorCode.CART_CHECKED_OUT)
        if mine is None or mine.status != Cart.Status.OPEN:
            raise ConflictError(
                "Your cart was checked out meanwhile; retry.", code=ErrorCode.CART_CHECKED_OUT
            )
        if Order.objects.filter(cart=guest, status=OrderStatus.PENDING).exists():
            raise ConflictError(
                "This guest cart has a pending order: pay or cancel it (POST /orders/{id}/cancel/ "
                "with its X-Order-Token), or let it expire, before claiming the cart.",
                code=ErrorCode.CART_HAS_PENDING_ORDER,
            )
        capped = _merge(guest, mine)
        Cart.objects.filter(pk=guest.pk, status=Cart.Status.OPEN).update(
            status=Cart.Status.MERGED, updated_at=timezone.now()
        )
        cart_touch(mine)
    return ClaimResult(cart=mine, capped=capped)


def _merge(guest: Cart, mine: Cart) -> list[CappedLine]:
    """Write every guest line into `mine` within the limits; the lines capped or left out."""
    incoming = cart_lines(guest)
    lines = cart_lines(mine)
    by_variant = {line.variant_id: line for line in lines}
    priced = pricing.price_cart(lines)
    total, currencies, line_count = priced.total_amount, set(priced.currencies), len(lines)
    held = held_by_others([line.variant_id for line in incoming], excluding=cart_pending_orders(mine))
    capped: list[CappedLine] = []
    for line in incoming:
        variant, existing = line.variant, by_variant.get(line.variant_id)
        have = existing.quantity if existing is not None else 0
        requested = have + line.quantity
        label = pricing.price_line(line).label
        cap = _Capper(capped, line, label, requested)
        if not (line.product.is_active and variant.is_active):
            cap(have, CapReason.PRODUCT_UNAVAILABLE, f"{label} is no longer for sale; it was not added.")
            continue
        if currencies and currencies != {variant.currency}:
            cap(
                have,
                CapReason.CURRENCY_MISMATCH,
                f"{label} is priced in {variant.currency}; your cart is in "
                f"{', '.join(sorted(currencies))}; it was not added.",
            )
            continue
        if existing is None and line_count >= pricing.max_lines():
            cap(
                0,
                CapReason.CART_TOO_MANY_LINES,
                f"{label} was not added: your cart already has {line_count} lines, "
                "the most one cart may hold.",
            )
            continue
        limits = [(pricing.max_quantity(), CapReason.MAX_QUANTITY)]
        left = available_quantity(variant.stock_on_hand, held.get(variant.pk, 0))
        if left is not None:
            limits.append((left, CapReason.INSUFFICIENT_STOCK))
        others = total - pricing.line_total(variant.unit_amount, have)
        fit = pricing.quantity_within_amounts(unit_amount=variant.unit_amount, other_lines_total=others)
        limits.append((fit, CapReason.ORDER_TOO_LARGE))
        limit, reason = min(limits, key=lambda pair: pair[0])
        quantity = max(have, min(requested, limit))  # the user's own line is never lowered
        if quantity < requested:
            cap(quantity, reason, _cap_message(reason, label, limit, quantity))
        if quantity == have:
            continue
        if existing is not None:
            CartItem.objects.filter(pk=existing.pk).update(quantity=quantity, updated_at=timezone.now())
        else:
            CartItem.objects.create(cart=mine, product=line.product, variant=variant, quantity=quantity)
            line_count += 1
        total += pricing.line_total(variant.unit_amount, quantity - have)
        currencies.add(variant.currency)
    return capped


@dataclass(frozen=True)
class _Capper:
    """Records one guest line as capped (or left out) with what it now holds and why."""

    capped: list[CappedLine]
    line: CartItem
    label: str
    requested: int

    def __call__(self, quantity: int, reason: CapReason, message: str) -> None:
        variant = self.line.variant
        self.capped.append(
            CappedLine(variant.pk, variant.sku, self.label, self.requested, quantity, reason, message)
        )


def _cap_message(reason: CapReason, label: str, limit: int, quantity: int) -> str:
    holds = f"the line holds {quantity}" if quantity else "it was not added"
    if reason is CapReason.MAX_QUANTITY:
        return f"{label}: at most {limit} per line; {holds}."
    if reason is CapReason.INSUFFICIENT_STOCK:
        return f"{label}: only {limit} available; {holds}."
    return f"{label}: more would take the cart above the largest order amount; {holds}."
