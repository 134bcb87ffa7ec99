"""Stock follows the order: the transition hook that releases a reservation or makes it a sale.

Registered on `checkout.states.on_transition`, so it runs inside the transaction that moved the
order, whoever moved it (confirm, webhook, reconciliation, cancel, a superseding checkout):
- pending → expired, cancelled or failed: the order's reservation is released;
- pending or failed → paid: every tracked line leaves the stock (`catalog.stock.stock_sell`,
  variants locked in id order after the order, as checkout locks them). When the stock was no
  longer there (the reservation had been released or had expired and others bought it), the
  money is still kept: the order is flagged `oversold` with an event naming the SKUs, and staff
  see it in the admin's "oversold" filter.

`order_stock_return` is staff's "return to stock" on the refund page: a refund moves money only.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import connection
from django.db.models import Sum

from catalog.models import StockReservation
from catalog.stock import stock_release, stock_return, stock_sell
from checkout.locks import lock_variants
from checkout.models import Order, OrderEvent, OrderItem
from checkout.states import OrderNotice, OrderStatus, Transition, on_transition, order_notice

S = OrderStatus
logger = logging.getLogger(__name__)

RELEASING = frozenset({S.EXPIRED, S.CANCELLED, S.FAILED})


@on_transition
def _stock_follows_the_order(change: Transition) -> None:
    if change.from_status == S.PENDING and change.to_status in RELEASING:
        stock_release(order_id=change.order_id)
    elif change.to_status == S.PAID and change.from_status in (S.PENDING, S.FAILED):
        order_stock_sell(order_id=change.order_id, source=change.source, event_id=change.provider_event_id)


def _order_lines(order_id: UUID | str) -> dict[int, int]:
    """The order's quantities per variant (two lines of one variant summed)."""
    rows = OrderItem.objects.filter(order_id=order_id).values("variant_id").annotate(quantity=Sum("quantity"))
    return {row["variant_id"]: int(row["quantity"]) for row in rows.order_by()}


def order_stock_return(*, order_id: UUID | str, actor: str) -> int:
    """Staff's "return to stock" on the refund page (a refund never restocks by itself): every
    tracked line goes back on hand, once per order; how many variants moved."""
    lines = _order_lines(order_id)
    return stock_return(order_id=order_id, lines=lines, actor=actor) if lines else 0


# The paid order's lines, whether any of their variants is tracked, and whether the order still
# holds a reservation: one statement on every paid order (the webhook's hot path), written out
# because the ORM spends more building it (an aggregate and a subquery) than PostgreSQL running it.
# Portable SQL (SQLite under `make run` has no BOOL_OR).
_LINES_TO_SELL = """
    SELECT item.variant_id, SUM(item.quantity),
           MAX(CASE WHEN variant.stock_on_hand IS NULL THEN 0 ELSE 1 END),
           EXISTS (SELECT 1 FROM catalog_stockreservation hold WHERE hold.order_id = %s AND hold.status = %s)
    FROM checkout_orderitem item JOIN catalog_productvariant variant ON variant.id = item.variant_id
    WHERE item.order_id = %s
    GROUP BY item.variant_id
"""


def _lines_to_sell(order_id: UUID | str) -> dict[int, int]:
    """The order's quantities per variant, or {} when there is nothing to sell: no line's variant
    is tracked and the order holds no reservation (one statement, no lock).

    Reading "untracked" without the variant's lock is safe: the sale then writes nothing of the
    variant, which is the outcome of this payment committing before a concurrent switch to
    tracking. A tracked line (or a reservation left to settle) takes the locking path.
    """
    order_pk = Order._meta.pk.get_db_prep_value(UUID(str(order_id)), connection)
    with connection.cursor() as cursor:
        cursor.execute(_LINES_TO_SELL, [order_pk, StockReservation.Status.HELD.value, order_pk])
        rows = cursor.fetchall()
    lines = {int(variant_id): int(quantity) for variant_id, quantity, _, _ in rows}
    return lines if any(tracked or holds for _, _, tracked, holds in rows) else {}


def order_stock_sell(*, order_id: UUID | str, source: str, event_id: str = "") -> list[str]:
    """Sell the paid order's tracked lines; flag it `oversold` when stock was short. Returns the
    short SKUs."""
    lines = _lines_to_sell(order_id)
    if not lines:
        return []
    short = stock_sell(order_id=str(order_id), lines=lines, variants=lock_variants(lines))
    if short:
        Order.objects.filter(pk=order_id).update(oversold=True)
        message = f"oversold: paid when {', '.join(short)} was no longer in stock; restock or refund"
        logger.error("order %s: %s", order_id, message)
        OrderEvent.objects.create(
            order_id=order_id,
            from_status=S.PAID,
            to_status=S.PAID,
            source=source,
            provider_event_id=event_id,
            message=message,
        )
        order_notice(OrderNotice(order_id=order_id, kind="oversold"))
    return short
