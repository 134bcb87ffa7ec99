"""Refunds: those staff issue (one locked, idempotent provider call and one transition), and those
the provider reports.

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
from django.db.models import F

from catalog.money import format_money
from checkout.locks import lock_order, lock_orders
from checkout.models import Order, OrderEvent
from checkout.services.transitions import order_transition
from checkout.states import PAID_STATUSES, OrderStatus, can_refund
from payments.interface import PaymentRefunded, gateway
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

    Raises:
    - `NotFoundError` (`order_not_found`) for an unknown order;
    - `ConflictError` (`refund_stale`) when `expected_amount_refunded` is given and differs
      from the order's (a double submit, or someone refunded meanwhile): nothing is sent;
    - `ConflictError` (`order_not_refundable`) unless the order is paid or partially refunded
      and has a payment intent;
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
        before = order.amount_refunded
        if expected_amount_refunded is not None and expected_amount_refunded != before:
            raise ConflictError(
                f"Order {order.number} changed since this form was shown: "
                f"{format_money(before, order.currency)} is refunded now, not "
                f"{format_money(expected_amount_refunded, order.currency)}. Nothing was refunded; "
                "check the history before refunding again.",
                code=ErrorCode.REFUND_STALE,
            )
        if not can_refund(order):
            raise ConflictError(
                f"Only a paid order can be refunded; order {order.number} is {order.get_status_display()}.",
                code=ErrorCode.ORDER_NOT_REFUNDABLE,
            )
        refundable = order.total_amount - before
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

        to_status = S.REFUNDED if before + amount == order.total_amount else S.PARTIALLY_REFUNDED
        moved = order_transition(
            order_id=order.pk,
            to_status=to_status,
            source=OrderEvent.Source.ADMIN,
            message=(
                f"Refund {refund.id} of {format_money(amount, order.currency)} by {username} "
                f"({format_money(before + amount, order.currency)} of "
                f"{format_money(order.total_amount, order.currency)} refunded)"
            ),
            amount_refunded=F("amount_refunded") + amount,
        )
        if not moved:  # impossible while we hold the row lock; never leave the provider and us apart silently
            logger.error("order %s: refund %s sent but the transition was refused", order.number, refund.id)
            raise ConflictError(
                "The order changed while refunding; check its history.", code=ErrorCode.REFUND_RACE
            )
        logger.info(
            "order %s refunded %s %s by %s (refund %s)",
            order.number,
            amount,
            order.currency,
            username,
            refund.id,
        )
        order.refresh_from_db()
    return order


def order_refund_record(*, refunded: PaymentRefunded, source: str, event_id: str = "") -> bool:
    """Record what the provider says was refunded on the order's payment (its refund webhook).

    `amount_refunded` only grows (max of ours and the provider's), so a refund already recorded
    by the admin, or an older event arriving late, changes nothing. Returns whether the order
    changed.
    """
    if not refunded.payment_id:
        return False
    with transaction.atomic():
        order = next(iter(lock_orders(Order.objects.filter(payment_id=refunded.payment_id))), None)
        if order is None:
            logger.warning("refund for unknown payment %s; ignored", refunded.payment_id)
            return False
        if order.status not in PAID_STATUSES:
            logger.error("refund on order %s in status %s; ignored", order.number, order.status)
            return False
        amount = min(max(order.amount_refunded, refunded.amount_refunded), order.total_amount)
        if amount == order.amount_refunded:
            return False
        to_status = S.REFUNDED if amount >= order.total_amount else S.PARTIALLY_REFUNDED
        return order_transition(
            order_id=order.pk,
            to_status=to_status,
            source=source,
            provider_event_id=event_id,
            message=f"refunded {amount} of {order.total_amount} {order.currency}",
            amount_refunded=amount,
        )
