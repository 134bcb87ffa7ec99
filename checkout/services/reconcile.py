"""Reconciliation: settle pending orders from what Stripe says, so a lost webhook is harmless.

`payments_reconcile` (run by `manage.py reconcile_payments`, e.g. from cron every few minutes)
walks every pending order with a Checkout Session older than `older_than` and asks Stripe for
the session:

- complete + paid  → `order_fulfil_from_session(..., source="reconcile")` (the same function the
  webhook and confirm use, so the order becomes paid exactly once whoever gets there first);
- expired          → pending → expired;
- open, past its `expires_at` → expire it at Stripe (`order_session_close`; if Stripe says it was
  paid meanwhile the order is fulfilled instead), then pending → expired;
- open, not yet expired, or complete + unpaid (an async payment is running) → left alone.

Safe on several machines at once: each order is handled in its own short transaction that first
locks the order's cart and then the order (the project's lock order: cart, then orders) with
`SELECT ... FOR UPDATE SKIP LOCKED`; a row another run (or a checkout) holds is skipped, not
waited for, and every state change is a conditional transition anyway. The Stripe call happens
under those two row locks, bounded by the gateway's timeout. A Stripe failure for one order is
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
from django.utils import timezone

from checkout import stripe_gateway
from checkout.models import Cart, Order, OrderEvent
from checkout.services.orders import (
    FulfilOutcome,
    SessionCloseOutcome,
    order_fulfil_from_session,
    order_session_close,
    order_session_outcome_record,
)
from shopapi.exceptions import PaymentProviderError

logger = logging.getLogger(__name__)

S = Order.Status
SOURCE = OrderEvent.Source.RECONCILE

ProgressCallback = Callable[[int, int], None]


class ReconcileOutcome(enum.StrEnum):
    PAID = "paid"  # this run moved the order to paid
    EXPIRED = "expired"  # this run moved the order to expired
    FAILED = "failed"  # this run moved the order to failed (its async payment failed)
    LEFT_OPEN = "left_open"  # still payable, or an async payment is running
    SKIPPED = "skipped"  # locked by another run / a checkout, or settled meanwhile by someone else
    ERROR = "error"  # Stripe failed, or Stripe's answer disagrees with the order (logged)


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
        Order.objects.filter(status=S.PENDING, stripe_session_id__isnull=False, created_at__lte=cutoff)
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
    """Settle one pending order from its Checkout Session, under skip-locked row locks."""
    try:
        with transaction.atomic(durable=True):
            # Lock order: the cart, then the order (as checkout and cancel do), never waiting.
            cart_locked = (
                Cart.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=cart_id).exists()
            )
            if not cart_locked:
                return ReconcileOutcome.SKIPPED
            order = (
                Order.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=order_id, status=S.PENDING)
                .first()
            )
            if order is None or not order.stripe_session_id:
                return ReconcileOutcome.SKIPPED
            return _settle(order)
    except PaymentProviderError as exc:
        logger.warning(
            "reconcile: order %s not settled, Stripe failed: %s (%s)", order_id, exc.message, exc.code
        )
        return ReconcileOutcome.ERROR


def _settle(order: Order) -> ReconcileOutcome:
    assert order.stripe_session_id  # checked by the caller
    session = stripe_gateway.checkout_session_retrieve(session_id=order.stripe_session_id)
    if session.is_paid:
        return _fulfil(order, session)
    if session.status == "expired":
        return _expire(order, session)
    if session.async_payment_failed:
        moved = order_session_outcome_record(session=session, to_status=S.FAILED, source=SOURCE)
        return ReconcileOutcome.FAILED if moved else ReconcileOutcome.SKIPPED
    if session.status == "open" and session.expires_at is not None and session.expires_at <= timezone.now():
        closed = order_session_close(order=order, source=SOURCE)
        if closed is SessionCloseOutcome.PAID:
            order.refresh_from_db(fields=["status"])
            return ReconcileOutcome.PAID if order.status == S.PAID else ReconcileOutcome.ERROR
        if closed is SessionCloseOutcome.PROCESSING:
            return ReconcileOutcome.LEFT_OPEN
        if closed is SessionCloseOutcome.FAILED:
            return ReconcileOutcome.FAILED
        return _expire(order, session)
    # open and still payable, or complete + unpaid (async payment under way)
    return ReconcileOutcome.LEFT_OPEN


def _fulfil(order: Order, session: stripe_gateway.StripeSession) -> ReconcileOutcome:
    result = order_fulfil_from_session(session=session, source=SOURCE)
    if result.outcome is FulfilOutcome.PAID:
        return ReconcileOutcome.PAID
    if result.outcome is FulfilOutcome.ALREADY_PAID:
        return ReconcileOutcome.SKIPPED
    # Paid at Stripe but it disagrees with the order: fulfil logged it and noted it on the order.
    logger.error("reconcile: order %s paid at Stripe but not fulfilled: %s", order.number, result.outcome)
    return ReconcileOutcome.ERROR


def _expire(order: Order, session: stripe_gateway.StripeSession) -> ReconcileOutcome:
    moved = order_session_outcome_record(session=session, to_status=S.EXPIRED, source=SOURCE)
    return ReconcileOutcome.EXPIRED if moved else ReconcileOutcome.SKIPPED
