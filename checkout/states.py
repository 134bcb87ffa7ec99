"""The order state machine: one table of allowed transitions and the one function that applies them.

`order_transition` is the ONLY place `Order.status` changes. It is a conditional update per
allowed from-status (`filter(pk=..., status=frm).update(status=to, ...)`), so two callers racing
for the same transition cannot both win: exactly one gets the row, writes exactly one
`OrderEvent`, and returns True. Anything not in the table (including late, out-of-order Stripe
events such as `expired` after `paid`) is refused by returning False, never by raising.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.utils import timezone

from checkout.models import Order, OrderEvent

# One structured line per order transition (JSON in production, with the request id).
payments_log = logging.getLogger("shopapi.payments")

S = Order.Status

# to_status -> the statuses it may be reached from.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PAID: frozenset({S.PENDING}),
    S.FAILED: frozenset({S.PENDING}),
    S.EXPIRED: frozenset({S.PENDING}),
    S.CANCELLED: frozenset({S.PENDING}),
    # partially_refunded -> partially_refunded is a further partial refund.
    S.PARTIALLY_REFUNDED: frozenset({S.PAID, S.PARTIALLY_REFUNDED}),
    S.REFUNDED: frozenset({S.PAID, S.PARTIALLY_REFUNDED}),
}


def transition_allowed(frm: str, to: str) -> bool:
    """Whether the table allows `frm -> to`."""
    return frm in ALLOWED_TRANSITIONS.get(to, frozenset())


def order_transition(
    *,
    order_id: UUID | str,
    to_status: str,
    source: str,
    stripe_event_id: str = "",
    message: str = "",
    **fields: Any,
) -> bool:
    """Move the order to `to_status` if the table allows it from its current status.

    `fields` are written in the same UPDATE (e.g. `paid_at`, `stripe_payment_intent_id`).
    Returns True and records one `OrderEvent` when this call made the change; False otherwise.
    Call it inside a transaction when the change must commit with other writes.
    """
    now = timezone.now()
    for frm in sorted(ALLOWED_TRANSITIONS.get(to_status, frozenset())):
        updated = Order.objects.filter(pk=order_id, status=frm).update(
            status=to_status, updated_at=now, **fields
        )
        if updated == 1:
            OrderEvent.objects.create(
                order_id=order_id,
                from_status=frm,
                to_status=to_status,
                source=source,
                stripe_event_id=stripe_event_id,
                message=message,
            )
            payments_log.info(
                "order %s: %s -> %s (%s)",
                order_id,
                frm,
                to_status,
                source,
                extra={
                    "order_id": str(order_id),
                    "from_status": frm,
                    "to_status": to_status,
                    "source": source,
                    "event_id": stripe_event_id or None,
                },
            )
            return True
    return False


def order_event_note(
    *, order: Order, source: str, message: str, stripe_event_id: str = "", once: bool = False
) -> bool:
    """Record an event that changes nothing (from = to = current status), e.g. a mismatch.

    With `once=True` the note is written only if the same message was not already recorded
    for this order and source, so a retried webhook or a repeated confirm adds no noise.
    """
    if (
        once
        and OrderEvent.objects.filter(
            order_id=order.pk, source=source, message=message, from_status=order.status
        ).exists()
    ):
        return False
    OrderEvent.objects.create(
        order_id=order.pk,
        from_status=order.status,
        to_status=order.status,
        source=source,
        stripe_event_id=stripe_event_id,
        message=message,
    )
    return True
