"""The one function that changes `Order.status`, and notes that change nothing.

`order_transition` is a conditional update per allowed from-status
(`filter(pk=..., status=frm).update(status=to, ...)`), so two callers racing for the same
transition cannot both win: exactly one gets the row, writes exactly one `OrderEvent`, runs the
transition hooks (`checkout.states.on_transition`) and returns True. Anything the table does not
allow (including late, out-of-order provider events such as `expired` after `paid`) is refused
by returning False, never by raising.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.utils import timezone

from checkout.models import Order, OrderEvent
from checkout.states import Transition, on_transition, sources_of, transition_hooks

# One structured line per order transition (JSON in production, with the request id).
payments_log = logging.getLogger("shopapi.payments")


@on_transition
def _log_transition(change: Transition) -> None:
    payments_log.info(
        "order %s: %s -> %s (%s)",
        change.order_id,
        change.from_status,
        change.to_status,
        change.source,
        extra={
            "order_id": str(change.order_id),
            "from_status": change.from_status,
            "to_status": change.to_status,
            "source": change.source,
            "event_id": change.provider_event_id or None,
        },
    )


def order_transition(
    *,
    order_id: UUID | str,
    to_status: str,
    source: str,
    provider_event_id: str = "",
    message: str = "",
    from_status: str | None = None,
    **fields: Any,
) -> bool:
    """Move the order to `to_status` if the table allows it from its current status.

    `from_status` narrows the move to that one current status (settlement pays only a pending
    order, though a failed refund may also move a refunded order back to paid). `fields` are
    written in the same UPDATE (e.g. `paid_at`, `payment_id`). Returns True and records one
    `OrderEvent` when this call made the change; False otherwise. Call it inside a transaction
    when the change must commit with other writes (the hooks run in it too).
    """
    now = timezone.now()
    sources = sources_of(to_status)
    for frm in sources if from_status is None else [s for s in sources if s == from_status]:
        updated = Order.objects.filter(pk=order_id, status=frm).update(
            status=to_status, updated_at=now, **fields
        )
        if updated == 1:
            OrderEvent.objects.create(
                order_id=order_id,
                from_status=frm,
                to_status=to_status,
                source=source,
                provider_event_id=provider_event_id,
                message=message,
            )
            change = Transition(order_id, frm, to_status, source, provider_event_id)
            for hook in transition_hooks():
                hook(change)
            return True
    return False


def order_event_note(
    *, order: Order, source: str, message: str, provider_event_id: str = "", once: bool = False
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
        provider_event_id=provider_event_id,
        message=message,
    )
    return True
