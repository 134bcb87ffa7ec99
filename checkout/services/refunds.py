"""Refunds: those staff issue (one locked, idempotent provider call), and those the provider reports.

Every refund is a `Refund` row as the provider last described it (pending, succeeded, failed);
`Order.amount_refunded` counts the succeeded ones and `Order.amount_refund_pending` the pending
ones, both moved in the same transaction as the rows, under the order's row lock, and a
database constraint keeps their sum within the order's total. A refund that fails, even after
it had succeeded, gives its amount back to what can be refunded and moves the order back
(refunded → partially refunded → paid) with an event that says why.

`order_refund` is what the admin's refund page calls. Under the order's row lock it checks the
amount against what is left (`total_amount - amount_refunded`), asks the payment provider to
refund, then raises `amount_refunded` and moves the order to `partially_refunded` / `refunded`
in ONE conditional UPDATE (`order_transition`, which writes the order's event). The provider's
refund webhook that follows (`order_refund_record`) takes max(ours, the provider's) and so finds
nothing left to change.

Idempotency: the provider's key is `refund:{order.id}:{amount_refunded_before}:{amount}`. If our
commit is lost after the provider refunded (crash, timeout, DB error), `amount_refunded` has not
moved, so retrying the same refund sends the same key and the provider replays the first refund
instead of paying out twice. A double submit of the admin form is stopped one step earlier: the form carries
the `amount_refunded` it was rendered with (`expected_amount_refunded`), and a second submit,
arriving after the first committed, no longer matches and is refused without calling the provider.

The lock: the order row stays locked (`SELECT ... FOR UPDATE`) while the provider is called. That
is the simplest correct choice: two staff members (or a double click) cannot refund the same order
at once, and the refund webhook for this refund waits for our commit and then sees the amount
already recorded. The cost is bounded by the gateway's short timeout; only this order's row is
held, and nothing else slow happens under it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from catalog.money import format_money
from checkout.locks import lock_order, lock_orders
from checkout.models import Order, OrderEvent
from checkout.models import Refund as RefundRecord
from checkout.services.transitions import order_event_note, order_transition
from checkout.states import PAID_STATUSES, OrderStatus, can_refund, refundable_amount
from payments.interface import PaymentRefunded, Refund, RefundStatus, gateway
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, NotFoundError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

logger = logging.getLogger(__name__)

S = OrderStatus


def refund_idempotency_key(*, order_id: UUID | str, amount_refunded_before: int, amount: int) -> str:
    """The provider idempotency key of one refund: the same order state and amount → the same key."""
    return f"refund:{order_id}:{amount_refunded_before}:{amount}"


def order_refund(
    *,
    order_id: UUID | str,
    amount: int,
    staff_user: AbstractBaseUser | AnonymousUser,
    expected_amount_refunded: int | None = None,
) -> Order:
    """Refund `amount` minor units of a paid order through the provider and record it; return it.

    `expected_amount_refunded` is what the staff member's form saw as refunded or pending.
    Raises:
    - `NotFoundError` (`order_not_found`) for an unknown order;
    - `ConflictError` (`refund_stale`) when `expected_amount_refunded` is given and differs
      from the order's (a double submit, or someone refunded meanwhile): nothing is sent;
    - `ConflictError` (`order_not_refundable`) unless the order is paid or partially refunded,
      has a provider payment and something left to refund;
    - `DomainError` (`refund_amount_invalid`, field `amount`) unless 1 <= amount <= refundable;
    - `payments.interface.RefundRefused` when the provider says no (already refunded, too much);
    - `PaymentProviderError` / `PaymentProviderUnavailable` when the provider fails.
    On any error nothing is written.
    """
    username = str(getattr(staff_user, "get_username", lambda: "")() or "unknown")
    with transaction.atomic(durable=True):
        order = lock_order(order_id)
        if order is None:
            raise NotFoundError("Order not found.", code=ErrorCode.ORDER_NOT_FOUND)
        before = committed_amount(order)
        if expected_amount_refunded is not None and expected_amount_refunded != before:
            raise ConflictError(
                f"Order {order.number} changed since this form was shown: "
                f"{format_money(before, order.currency)} is refunded or pending now, not "
                f"{format_money(expected_amount_refunded, order.currency)}. Nothing was refunded; "
                "check the history before refunding again.",
                code=ErrorCode.REFUND_STALE,
            )
        if not can_refund(order):
            raise ConflictError(
                f"Only a paid order can be refunded; order {order.number} is {order.get_status_display()}.",
                code=ErrorCode.ORDER_NOT_REFUNDABLE,
            )
        refundable = refundable_amount(order)
        if not 1 <= amount <= refundable:
            raise DomainError(
                f"The amount must be between {format_money(1, order.currency)} and "
                f"{format_money(refundable, order.currency)} (what is left to refund).",
                code=ErrorCode.REFUND_AMOUNT_INVALID,
                field="amount",
            )

        refund = gateway().refund_create(
            payment_id=order.payment_id,
            amount=amount,
            idempotency_key=refund_idempotency_key(
                order_id=order.pk, amount_refunded_before=before, amount=amount
            ),
            # Only order facts: a retry by another staff member must send identical parameters.
            metadata={"order_id": str(order.pk), "order_number": order.number},
        )
        refunded, pending = _record(order, refund, requested_by=username)
        message = f"Refund {refund.id} of {format_money(amount, order.currency)} by {username}"
        if refund.status is RefundStatus.SUCCEEDED:
            message += (
                f" ({format_money(refunded, order.currency)} of "
                f"{format_money(order.total_amount, order.currency)} refunded)"
            )
        else:
            message += f": {refund.status} at the payment provider"
        if not _sync(order, refunded, pending, source=OrderEvent.Source.ADMIN, message=message):
            if refund.status is RefundStatus.SUCCEEDED:  # impossible under the row lock: say so loudly
                logger.error(
                    "order %s: refund %s sent but the transition was refused", order.number, refund.id
                )
                raise ConflictError(
                    "The order changed while refunding; check its history.", code=ErrorCode.REFUND_RACE
                )
            order_event_note(order=order, source=OrderEvent.Source.ADMIN, message=message)
        logger.info(
            "order %s refund %s of %s %s by %s: %s",
            order.number,
            refund.id,
            amount,
            order.currency,
            username,
            refund.status,
        )
        order.refresh_from_db()
    return order


def committed_amount(order: Order) -> int:
    """Refunded or pending: what a new refund comes on top of (and what its idempotency key names)."""
    return order.amount_refunded + order.amount_refund_pending


# How a refund row may move; anything else (a late, out-of-order event) changes nothing.
_ROW_MOVES = {
    RefundStatus.PENDING: {RefundStatus.SUCCEEDED, RefundStatus.FAILED},
    RefundStatus.SUCCEEDED: {RefundStatus.FAILED},
}


def _counts(status: str, amount: int) -> tuple[int, int]:
    """(succeeded, pending) amounts a refund in `status` counts for."""
    return (
        amount if status == RefundStatus.SUCCEEDED else 0,
        amount if status == RefundStatus.PENDING else 0,
    )


def _record(order: Order, refund: Refund, *, requested_by: str = "") -> tuple[int, int]:
    """Upsert the refund's row; the order's (refunded, pending) amounts with it."""
    refunded, pending = order.amount_refunded, order.amount_refund_pending
    row = RefundRecord.objects.filter(provider_refund_id=refund.id).first()
    if row is None:
        RefundRecord.objects.create(
            order=order,
            provider_refund_id=refund.id,
            amount=refund.amount,
            currency=refund.currency or order.currency,
            status=refund.status,
            failure_reason=refund.failure_reason,
            requested_by=requested_by,
        )
        added = _counts(refund.status, refund.amount)
        return refunded + added[0], pending + added[1]
    if refund.status not in _ROW_MOVES.get(RefundStatus(row.status), set()):
        return refunded, pending
    old, new = _counts(row.status, row.amount), _counts(refund.status, row.amount)
    RefundRecord.objects.filter(pk=row.pk).update(
        status=refund.status, failure_reason=refund.failure_reason, updated_at=timezone.now()
    )
    return refunded + new[0] - old[0], pending + new[1] - old[1]


def _sync(
    order: Order, refunded: int, pending: int, *, source: str, message: str, event_id: str = ""
) -> bool:
    """Store the order's refunded and pending amounts; a transition when the refunded one moved."""
    refunded = min(refunded, order.total_amount)
    pending = min(pending, order.total_amount - refunded)
    if refunded == order.amount_refunded:
        if pending != order.amount_refund_pending:
            Order.objects.filter(pk=order.pk).update(amount_refund_pending=pending, updated_at=timezone.now())
        return False
    to_status = S.REFUNDED if refunded >= order.total_amount else S.PARTIALLY_REFUNDED if refunded else S.PAID
    return order_transition(
        order_id=order.pk,
        to_status=to_status,
        from_status=order.status,  # the row is locked: this is its status
        source=source,
        provider_event_id=event_id,
        message=message,
        amount_refunded=refunded,
        amount_refund_pending=pending,
    )


def _locked_order_of(payment_id: str | None) -> Order | None:
    if not payment_id:
        return None
    order = next(iter(lock_orders(Order.objects.filter(payment_id=payment_id))), None)
    if order is None:
        logger.warning("refund for unknown payment %s; ignored", payment_id)
    elif order.status not in PAID_STATUSES:
        logger.error("refund on order %s in status %s; ignored", order.number, order.status)
        return None
    return order


def refund_event_record(*, refund: Refund, source: str, event_id: str = "") -> bool:
    """Record one refund as the provider reports it now (its refund.* webhooks); whether the order
    changed. A failure is said in the order's history, with the provider's reason."""
    with transaction.atomic():
        order = _locked_order_of(refund.payment_id)
        if order is None:
            return False
        refunded, pending = _record(order, refund)
        message = f"refund {refund.id} of {format_money(refund.amount, order.currency)}: {refund.status}"
        if refund.status is RefundStatus.FAILED:
            message += f" ({refund.failure_reason or 'no reason given'}); nothing went back to the customer"
        moved = _sync(order, refunded, pending, source=source, message=message, event_id=event_id)
        if not moved and refund.status is RefundStatus.FAILED:  # a pending one: still tell staff
            order_event_note(
                order=order, source=source, message=message, provider_event_id=event_id, once=True
            )
        return moved


def order_refund_record(*, refunded: PaymentRefunded, source: str, event_id: str = "") -> bool:
    """A payment's refunds changed (`charge.refunded`): read them all from the provider and record
    each, so refunds made in the provider's dashboard are counted too. Whether the order changed.
    """
    with transaction.atomic():
        order = _locked_order_of(refunded.payment_id)
        if order is None or not refunded.payment_id:
            return False
        refunds = gateway().refunds_list(payment_id=refunded.payment_id)
        for refund in refunds:
            _record(order, refund)
        # The provider's list holds every refund of the payment, so its sums are the truth.
        total_refunded = sum(r.amount for r in refunds if r.status is RefundStatus.SUCCEEDED)
        total_pending = sum(r.amount for r in refunds if r.status is RefundStatus.PENDING)
        message = (
            f"refunded {min(total_refunded, order.total_amount)} of {order.total_amount} {order.currency}"
        )
        return _sync(order, total_refunded, total_pending, source=source, message=message, event_id=event_id)
