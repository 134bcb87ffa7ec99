"""Reconciliation: settle pending orders from what the payment provider says, so a lost webhook is harmless.

`payments_reconcile` (run by `manage.py reconcile_payments`, e.g. from cron every few minutes)
walks every pending order with a payment session older than `older_than`, retrieves the session
and settles it through `order_settle` (the same mapping webhooks and confirm use, so the order
moves once whoever gets there first). A session still open past its expiry is closed at the
provider (`order_session_close`, reason TIMED_OUT: the order expires; if the provider says it
was paid meanwhile, it is settled as paid instead). Open and payable, or processing an
asynchronous payment: left alone.

Safe on several machines at once: each order is handled in its own short transaction that first
locks the order's cart and then the order (the project's lock order: cart, then orders) with
`SELECT ... FOR UPDATE SKIP LOCKED`; a row another run (or a checkout) holds is skipped, not
waited for, and every state change is a conditional transition anyway. The provider call happens
under those two row locks, bounded by the gateway's timeout. A provider failure for one order is
logged and counted; the run continues with the next order.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from checkout.locks import lock_cart, lock_order
from checkout.models import Order, OrderEvent
from checkout.services.settlement import (
    CLOSED,
    CloseReason,
    Settlement,
    SettleResult,
    order_session_close,
    order_session_resolve,
    order_settle,
)
from checkout.states import OrderStatus
from payments.interface import SessionState, gateway
from shopapi.exceptions import PaymentProviderError

logger = logging.getLogger(__name__)

S = OrderStatus
SOURCE = OrderEvent.Source.RECONCILE

ProgressCallback = Callable[[int, int], None]


class ReconcileOutcome(enum.StrEnum):
    PAID = "paid"  # this run moved the order to paid
    EXPIRED = "expired"  # this run moved the order to expired
    FAILED = "failed"  # this run moved the order to failed (its async payment failed)
    LEFT_OPEN = "left_open"  # still payable, or an async payment is running
    SKIPPED = "skipped"  # locked by another run / a checkout, or settled meanwhile by someone else
    ERROR = "error"  # the provider failed, or its answer disagrees with the order (logged)


@dataclass
class ReconcileSummary:
    checked: int = 0
    paid: int = 0
    expired: int = 0
    failed: int = 0
    left_open: int = 0
    skipped: int = 0
    errors: int = 0

    def add(self, outcome: ReconcileOutcome) -> None:
        self.checked += 1
        if outcome is ReconcileOutcome.PAID:
            self.paid += 1
        elif outcome is ReconcileOutcome.EXPIRED:
            self.expired += 1
        elif outcome is ReconcileOutcome.FAILED:
            self.failed += 1
        elif outcome is ReconcileOutcome.LEFT_OPEN:
            self.left_open += 1
        elif outcome is ReconcileOutcome.SKIPPED:
            self.skipped += 1
        else:
            self.errors += 1

    def __str__(self) -> str:
        text = (
            f"checked {self.checked}, paid {self.paid}, expired {self.expired}, "
            f"left open {self.left_open}, errors {self.errors}"
        )
        text += f", failed {self.failed}" if self.failed else ""
        return text + (f", skipped {self.skipped}" if self.skipped else "")


def payments_reconcile(
    *, older_than: timedelta, progress: ProgressCallback | None = None
) -> ReconcileSummary:
    """Settle every pending order whose session is older than `older_than`; one order at a time."""
    cutoff = timezone.now() - older_than
    candidates = list(
        Order.objects.filter(status=S.PENDING, created_at__lte=cutoff)
        .filter(Q(provider_session_id__isnull=False) | Q(session_unclear_since__isnull=False))
        .order_by("created_at", "id")
        .values_list("pk", "cart_id")
    )
    summary = ReconcileSummary()
    total = len(candidates)
    if progress is not None:
        progress(0, total)
    for done, (order_id, cart_id) in enumerate(candidates, start=1):
        summary.add(order_reconcile(order_id=order_id, cart_id=cart_id))
        if progress is not None:
            progress(done, total)
    logger.info("reconcile_payments: %s", summary)
    return summary


def order_reconcile(*, order_id: UUID, cart_id: UUID) -> ReconcileOutcome:
    """Settle one pending order from its payment session, under skip-locked row locks."""
    try:
        with transaction.atomic(durable=True):
            # Lock order: the cart, then the order (as checkout and cancel do), never waiting.
            if lock_cart(cart_id, skip_locked=True) is None:
                return ReconcileOutcome.SKIPPED
            order = lock_order(order_id, within=Order.objects.filter(status=S.PENDING), skip_locked=True)
            if order is None:
                return ReconcileOutcome.SKIPPED
            order_session_resolve(order=order, source=SOURCE)  # a call that got no answer, first
            if order.status != S.PENDING:
                return _RESOLVED.get(order.status, ReconcileOutcome.SKIPPED)
            if not order.provider_session_id:
                return ReconcileOutcome.SKIPPED
            return _reconcile(order, order.provider_session_id)
    except PaymentProviderError as exc:
        logger.warning(
            "reconcile: order %s not settled, the provider failed: %s (%s)", order_id, exc.message, exc.code
        )
        return ReconcileOutcome.ERROR


# What this run did, when resolving an unclear session already settled the order.
_RESOLVED: dict[str, ReconcileOutcome] = {
    S.PAID: ReconcileOutcome.PAID,
    S.FAILED: ReconcileOutcome.FAILED,
    S.EXPIRED: ReconcileOutcome.EXPIRED,
}

# What this run did, by what settlement did.
_OUTCOMES = {
    Settlement.PAID: ReconcileOutcome.PAID,
    Settlement.FAILED: ReconcileOutcome.FAILED,
    Settlement.EXPIRED: ReconcileOutcome.EXPIRED,
    Settlement.ALREADY_PAID: ReconcileOutcome.SKIPPED,
    Settlement.NOT_CURRENT: ReconcileOutcome.SKIPPED,
    Settlement.UNCHANGED: ReconcileOutcome.SKIPPED,
}
# What this run did, by what closing a session past its expiry found.
_CLOSE_OUTCOMES = {
    CLOSED: ReconcileOutcome.EXPIRED,
    SessionState.EXPIRED: ReconcileOutcome.EXPIRED,
    SessionState.FAILED: ReconcileOutcome.FAILED,
    SessionState.PROCESSING: ReconcileOutcome.LEFT_OPEN,
}


def _reconcile(order: Order, session_id: str) -> ReconcileOutcome:
    session = gateway().session_retrieve(session_id=session_id)
    if session.state is SessionState.PROCESSING:
        return ReconcileOutcome.LEFT_OPEN
    if session.state is SessionState.OPEN:
        if session.expires_at is None or session.expires_at > timezone.now():
            return ReconcileOutcome.LEFT_OPEN
        closed = order_session_close(order=order, source=SOURCE, reason=CloseReason.TIMED_OUT)
        if closed is SessionState.PAID:
            order.refresh_from_db(fields=["status"])
            return ReconcileOutcome.PAID if order.status == S.PAID else ReconcileOutcome.ERROR
        return _CLOSE_OUTCOMES[closed]
    return _outcome(order, order_settle(session=session, source=SOURCE))


def _outcome(order: Order, result: SettleResult) -> ReconcileOutcome:
    outcome = _OUTCOMES.get(result.outcome)
    if outcome is None:
        # Paid at the provider but it disagrees with the order: settlement logged it and noted it.
        logger.error(
            "reconcile: order %s paid at the provider but not settled: %s", order.number, result.outcome
        )
        return ReconcileOutcome.ERROR
    return outcome
