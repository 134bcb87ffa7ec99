"""Stock: what is available, what pending orders hold, and every change of on-hand (the ledger).

The one home of the stock rules:
- **available** = on hand − what pending orders hold (`StockReservation` rows `held` whose
  `expires_at`, the payment session's expiry, is still ahead), never shown below 0; `None` when
  the variant's stock is not tracked (unlimited).
- **a cart line** is checked against what is available (`stock_check`); carts reserve nothing.
- **checkout** reserves every tracked line of the new pending order (`stock_reserve`) with the
  variants locked (`checkout.locks.lock_variants`, after the cart and its orders).
- the order's transitions (checkout/services/stock.py) **release** the reservation when it
  expires, is cancelled or fails (`stock_release`) and turn it into a **sale** when it is paid
  (`stock_sell`). A payment whose reservation no longer counted, when the stock is now short, is
  still a sale (money taken is never refused): the sale reports it, and the order is flagged
  `oversold`; on-hand may then go below 0, which tells staff exactly how many units they owe.
- **every change of on-hand** goes through `_move`, which writes one `StockMovement`, so the
  ledger always sums to on-hand (`stock_adjust`, `stock_set` and `stock_return` for staff).
- every change of what is available (on hand, holds taken, released or sold, tracking switched)
  calls `catalog.cache.stock_changed`, so cached catalog pages catch up within
  `CATALOG_STOCK_STALENESS_SECONDS` (catalog/cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.cache import stock_changed
from catalog.models import ProductVariant, StockMovement, StockReservation
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError

HELD = StockReservation.Status.HELD
Reason = StockMovement.Reason


class InsufficientStock(ConflictError):
    """409 `insufficient_stock`: more asked for than is available; `fields` say how many are left."""

    default_code = ErrorCode.INSUFFICIENT_STOCK


def held_total(now: datetime, *, variant_ref: str = "pk") -> Coalesce:
    """SQL: the units held by live reservations of the variant `OuterRef(variant_ref)`."""
    held = (
        StockReservation.objects.filter(variant=OuterRef(variant_ref), status=HELD, expires_at__gt=now)
        .values("variant")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(held), Value(0))


def in_stock_condition(now: datetime) -> Exists:
    """SQL for a product: any active variant untracked, or with more on hand than is held."""
    return Exists(
        ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        .annotate(held=held_total(now))
        .filter(Q(stock_on_hand__isnull=True) | Q(stock_on_hand__gt=F("held")))
    )


def available_quantity(on_hand: int | None, held: int) -> int | None:
    """What can still be bought: None when not tracked, never below 0."""
    return None if on_hand is None else max(0, on_hand - held)


def held_by_others(variant_ids: Iterable[int], *, excluding: Iterable[UUID] = ()) -> dict[int, int]:
    """Units held by live reservations per variant, leaving out those of the orders `excluding`."""
    rows = (
        StockReservation.objects.filter(
            variant_id__in=list(variant_ids), status=HELD, expires_at__gt=timezone.now()
        )
        .exclude(order_id__in=list(excluding))
        .values("variant_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["variant_id"]: int(row["total"]) for row in rows}


def _left_message(variant: ProductVariant, left: int) -> str:
    name = f"{variant.product.name} ({variant.display_title})" if variant.options else variant.product.name
    if left == 0:
        return f"{name} is out of stock."
    return f"Only {left} of {name} left."


def stock_check(
    *, variant: ProductVariant, quantity: int, field: str = "quantity", excluding: Iterable[UUID] = ()
) -> None:
    """Refuse (409) a line of `quantity` units when fewer are available; nothing is reserved.

    What the orders `excluding` hold counts as available (a cart's own pending order: checking
    the cart out again releases it)."""
    if variant.stock_on_hand is None:
        return
    held = held_by_others([variant.pk], excluding=excluding).get(variant.pk, 0)
    left = available_quantity(variant.stock_on_hand, held)
    assert left is not None
    if quantity > left:
        raise InsufficientStock(_left_message(variant, left), field=field)


@dataclass(frozen=True)
class StockLine:
    """One line asking for stock: `field` names it in an error (e.g. `items.12.quantity`)."""

    variant: ProductVariant
    quantity: int
    field: str


def stock_check_lines(lines: Iterable[StockLine], *, excluding: Iterable[UUID] = ()) -> None:
    """Refuse (409) when any tracked line asks for more than is available, naming each short line.

    Holds of the orders `excluding` count as available (they are about to be released). Call it
    with the variants locked when its answer must hold until commit.
    """
    tracked = [line for line in lines if line.variant.stock_on_hand is not None]
    if not tracked:
        return
    held = held_by_others({line.variant.pk for line in tracked}, excluding=excluding)
    short: dict[str, list[str]] = {}
    for line in tracked:
        left = available_quantity(line.variant.stock_on_hand, held.get(line.variant.pk, 0))
        assert left is not None
        if line.quantity > left:
            short[line.field] = [_left_message(line.variant, left)]
    if short:
        message = " ".join(text for texts in short.values() for text in texts)
        raise InsufficientStock(message, fields=short)


def stock_reserve(*, order_id: UUID, lines: Iterable[StockLine], expires_at: datetime) -> None:
    """Hold the stock of every tracked line for the pending order until `expires_at`.

    The variants must be locked by the caller (checkout), so the check and the holds are one
    decision; raises `InsufficientStock` naming each short line, writing nothing.
    """
    lines = list(lines)
    stock_check_lines(lines)
    holds = StockReservation.objects.bulk_create(
        [
            StockReservation(
                variant=line.variant, order_id=order_id, quantity=line.quantity, expires_at=expires_at
            )
            for line in lines
            if line.variant.stock_on_hand is not None
        ]
    )
    if holds:
        stock_changed()


def stock_release(*, order_id: UUID | str) -> int:
    """Give back what the order holds (it expired, was cancelled or failed); how many rows."""
    released = StockReservation.objects.filter(order_id=order_id, status=HELD).update(
        status=StockReservation.Status.RELEASED, updated_at=timezone.now()
    )
    if released:
        stock_changed()
    return released


def stock_sell(
    *, order_id: UUID | str, lines: Mapping[int, int], variants: list[ProductVariant]
) -> list[str]:
    """The paid order's tracked lines leave the stock: on-hand decremented, one ledger row each.

    `lines` maps variant id → quantity; `variants` are those variants, locked. A line whose
    reservation still counted is always covered. Returns the SKUs that were short (the order is
    oversold): its reservation had been released or had expired and others took the stock.
    """
    now = timezone.now()
    holds = {
        hold.variant_id: hold
        for hold in StockReservation.objects.filter(
            order_id=order_id, status=HELD, variant_id__in=list(lines)
        )
    }
    tracked = [variant for variant in variants if variant.stock_on_hand is not None]
    others = held_by_others([variant.pk for variant in tracked], excluding=[UUID(str(order_id))])
    short: list[str] = []
    for variant in tracked:
        quantity = lines[variant.pk]
        assert variant.stock_on_hand is not None
        hold = holds.get(variant.pk)
        covered = hold is not None and hold.expires_at > now and hold.quantity >= quantity
        free = variant.stock_on_hand - others.get(variant.pk, 0)
        if variant.stock_on_hand < quantity or (not covered and free < quantity):
            short.append(variant.sku)
        _move(variant, -quantity, Reason.SALE, order_id=order_id)
    if StockReservation.objects.filter(order_id=order_id, status=HELD).update(
        status=StockReservation.Status.SOLD, updated_at=now
    ):
        stock_changed()
    return short


def _move(
    variant: ProductVariant,
    delta: int,
    reason: str,
    *,
    order_id: UUID | str | None = None,
    actor: str = "",
    note: str = "",
) -> StockMovement:
    """Change a locked variant's on-hand by `delta` and record why (the only writer of on-hand)."""
    after = (variant.stock_on_hand or 0) + delta
    ProductVariant.objects.filter(pk=variant.pk).update(
        stock_on_hand=Coalesce(F("stock_on_hand"), Value(0)) + delta, updated_at=timezone.now()
    )
    variant.stock_on_hand = after
    stock_changed()
    return StockMovement.objects.create(
        variant=variant,
        delta=delta,
        on_hand_after=after,
        reason=reason,
        order_id=order_id,
        actor=actor,
        note=note,
    )


def _lock(variant_id: int) -> ProductVariant:
    from checkout.locks import lock_variants  # the one home of locks; checkout imports catalog

    locked = lock_variants([variant_id])
    if not locked:
        raise DomainError(f"Variant {variant_id} does not exist.", field="variant_id")
    return locked[0]


def stock_adjust(
    *, variant_id: int, delta: int, actor: str, note: str = "", reason: str = Reason.ADJUSTMENT
) -> StockMovement | None:
    """Staff add or remove units (a delivery, a recount, breakage). An untracked variant starts
    being tracked from 0. Refuses a result below 0; a delta of 0 records nothing."""
    with transaction.atomic():
        variant = _lock(variant_id)
        if delta == 0:
            return None
        after = (variant.stock_on_hand or 0) + delta
        if after < 0:
            raise DomainError(
                f"{variant.sku} has {variant.stock_on_hand or 0} on hand; "
                f"removing {-delta} would go below 0.",
                field="delta",
            )
        return _move(variant, delta, reason, actor=actor, note=note)


def stock_set(
    *, variant_id: int, on_hand: int | None, actor: str, note: str = "", reason: str = Reason.ADJUSTMENT
) -> StockMovement | None:
    """Staff set on-hand to a counted number (None: stop tracking), recorded as the difference.

    The difference is taken from the locked row, so a sale committed since the form was shown is
    never undone by accident in the ledger: the ledger still sums to on-hand.
    """
    if on_hand is not None and on_hand < 0:
        raise DomainError("On-hand stock can't be set below 0.", field="stock_on_hand")
    with transaction.atomic():
        variant = _lock(variant_id)
        if on_hand is None:
            movement = None
            if variant.stock_on_hand:  # the ledger goes back to 0 with it
                movement = _move(
                    variant, -variant.stock_on_hand, reason, actor=actor, note=note or "tracking off"
                )
            ProductVariant.objects.filter(pk=variant.pk).update(stock_on_hand=None)
            stock_changed()
            return movement
        delta = on_hand - (variant.stock_on_hand or 0)
        if delta == 0:
            if variant.stock_on_hand is None:  # start tracking at 0
                ProductVariant.objects.filter(pk=variant.pk).update(stock_on_hand=0)
                stock_changed()
            return None
        return _move(variant, delta, reason, actor=actor, note=note)


def stock_return(*, order_id: UUID | str, lines: Mapping[int, int], actor: str) -> int:
    """Put a refunded order's tracked units back on hand, once per order; how many movements."""
    with transaction.atomic():
        from checkout.locks import lock_variants

        variants = lock_variants(sorted(lines))
        if StockMovement.objects.filter(order_id=order_id, reason=Reason.RETURN).exists():
            return 0
        moved = 0
        for variant in variants:
            if variant.stock_on_hand is not None:
                _move(variant, lines[variant.pk], Reason.RETURN, order_id=order_id, actor=actor)
                moved += 1
        return moved


def ledger_mismatches(variants: QuerySet[ProductVariant] | None = None) -> list[tuple[str, int | None, int]]:
    """Tracked variants whose on-hand is not the sum of their ledger: `(sku, on_hand, ledger_sum)`.

    Empty when the books are right (a test and the admin's stock check use it).
    """
    queryset = variants if variants is not None else ProductVariant.objects.all()
    rows = queryset.annotate(ledger=Coalesce(Sum("movements__delta"), Value(0))).values_list(
        "sku", "stock_on_hand", "ledger"
    )
    return [(sku, on_hand, ledger) for sku, on_hand, ledger in rows if (on_hand or 0) != ledger]
