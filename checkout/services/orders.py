"""Order writes: fulfilment (the only way an order becomes paid), confirm, cancel, webhook outcomes.

`order_fulfil_from_session` may be called any number of times, from anywhere (confirm, webhooks,
checkout, cancel, reconciliation): the conditional update in `checkout.states.order_transition`
makes exactly one of them move the order to `paid` and write its one `OrderEvent`.

Money is never dropped silently: a paid session whose order is no longer pending, or whose
amount/currency/session id disagree with the order, is logged at ERROR and recorded as an event
that changes nothing (from = to), once per session and source.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.db import transaction
from django.utils import timezone

from checkout import stripe_gateway
from checkout.locks import cart_for_update
from checkout.models import Cart, Order, OrderEvent
from checkout.selectors.orders import order_get_for_user
from checkout.states import order_event_note, order_transition
from shopapi.exceptions import ConflictError, NotFoundError, PaymentProviderError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

logger = logging.getLogger(__name__)

S = Order.Status
PAID_STATUSES = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED})


class FulfilOutcome(enum.StrEnum):
    PAID = "paid"  # this call moved the order to paid
    ALREADY_PAID = "already_paid"  # an earlier call did
    NOT_PAID = "not_paid"  # Stripe does not (yet) say complete + paid
    UNKNOWN_ORDER = "unknown_order"  # no order for this session
    MISMATCH = "mismatch"  # session id, amount or currency disagree with the order
    NEEDS_REFUND = "needs_refund"  # paid, but the order is cancelled/expired/failed


@dataclass(frozen=True)
class FulfilResult:
    outcome: FulfilOutcome
    order_id: uuid.UUID | None = None

    @property
    def transitioned(self) -> bool:
        return self.outcome is FulfilOutcome.PAID


class SessionCloseOutcome(enum.StrEnum):
    CLOSED = "closed"  # we expired the open session: it can no longer be paid
    ALREADY_EXPIRED = "already_expired"
    PAID = "paid"  # it was paid meanwhile; the order has been fulfilled
    PROCESSING = "processing"  # complete but unpaid: an async payment is under way
    FAILED = "failed"  # its async payment failed; the order has been marked failed


def _order_for_session(session: stripe_gateway.StripeSession) -> Order | None:
    raw = session.order_id
    if not raw:
        return None
    try:
        order_id = uuid.UUID(raw)
    except ValueError:
        return None
    return Order.objects.filter(pk=order_id).first()


def _mismatches(order: Order, session: stripe_gateway.StripeSession) -> list[str]:
    problems = []
    if order.stripe_session_id and order.stripe_session_id != session.id:
        problems.append(f"session {session.id} is not the order's session {order.stripe_session_id}")
    if session.amount_total != order.total_amount:
        problems.append(f"amount_total {session.amount_total} != order total {order.total_amount}")
    if session.currency != order.currency:
        problems.append(f"currency {session.currency!r} != order currency {order.currency!r}")
    return problems


def order_fulfil_from_session(
    *, session: stripe_gateway.StripeSession, source: str, stripe_event_id: str = ""
) -> FulfilResult:
    """Mark the session's order paid if Stripe says it is paid and everything matches; once."""
    with transaction.atomic():
        order = _order_for_session(session)
        if order is None:
            logger.warning("session %s names no known order (%r); ignored", session.id, session.order_id)
            return FulfilResult(FulfilOutcome.UNKNOWN_ORDER)
        if not session.is_paid:
            return FulfilResult(FulfilOutcome.NOT_PAID, order.pk)

        problems = _mismatches(order, session)
        if problems:
            message = f"paid session {session.id} does not match the order: " + "; ".join(problems)
            logger.error("order %s: %s", order.number, message)
            order_event_note(
                order=order, source=source, message=message, stripe_event_id=stripe_event_id, once=True
            )
            return FulfilResult(FulfilOutcome.MISMATCH, order.pk)

        if order.status == S.PENDING:
            # Lock order is cart, then orders (as in checkout_start and order_cancel): take the
            # cart row first, or a webhook holding the order row while waiting for the cart could
            # deadlock with a checkout holding the cart while waiting for the order.
            list(
                Cart.objects.select_for_update(of=("self",))
                .filter(pk=order.cart_id)
                .values_list("pk", flat=True)
            )
            moved = order_transition(
                order_id=order.pk,
                to_status=S.PAID,
                source=source,
                stripe_event_id=stripe_event_id,
                paid_at=timezone.now(),
                stripe_payment_intent_id=session.payment_intent_id or "",
            )
            if moved:
                Cart.objects.filter(pk=order.cart_id, status=Cart.Status.OPEN).update(
                    status=Cart.Status.CHECKED_OUT, updated_at=timezone.now()
                )
                return FulfilResult(FulfilOutcome.PAID, order.pk)
            order.refresh_from_db(fields=["status"])

        if order.status in PAID_STATUSES:
            return FulfilResult(FulfilOutcome.ALREADY_PAID, order.pk)

        message = f"paid session {session.id} for a non-pending order: needs a refund"
        logger.error("order %s (%s): %s", order.number, order.status, message)
        order_event_note(
            order=order, source=source, message=message, stripe_event_id=stripe_event_id, once=True
        )
        return FulfilResult(FulfilOutcome.NEEDS_REFUND, order.pk)


def order_session_close(*, order: Order, source: str) -> SessionCloseOutcome:
    """Make the order's Checkout Session unpayable, or learn that it was already paid.

    Expires it at Stripe; when Stripe refuses because it is no longer open, retrieves it: paid →
    fulfils the order (so it becomes `paid`), complete but unpaid → an async payment is running,
    expired → nothing to do. Stripe errors propagate as `PaymentProviderError`.
    """
    if not order.stripe_session_id:
        return SessionCloseOutcome.ALREADY_EXPIRED
    try:
        stripe_gateway.checkout_session_expire(session_id=order.stripe_session_id)
    except stripe_gateway.SessionNotOpen:
        session = stripe_gateway.checkout_session_retrieve(session_id=order.stripe_session_id)
        if session.status == "expired":
            return SessionCloseOutcome.ALREADY_EXPIRED
        if session.is_paid:
            order_fulfil_from_session(session=session, source=source)
            return SessionCloseOutcome.PAID
        if session.async_payment_failed:
            order_session_outcome_record(session=session, to_status=S.FAILED, source=source)
            return SessionCloseOutcome.FAILED
        if session.status == "complete":
            return SessionCloseOutcome.PROCESSING
        raise PaymentProviderError(
            f"Stripe refused to expire session {session.id} in status {session.status!r}."
        ) from None
    return SessionCloseOutcome.CLOSED


def order_session_outcome_record(
    *, session: stripe_gateway.StripeSession, to_status: str, source: str, stripe_event_id: str = ""
) -> bool:
    """Apply a non-paid session outcome (`expired`, `failed`) to the session's order.

    Only the order's own current session counts (a superseded order's old session changes
    nothing), and only from `pending` (the state machine refuses anything else).
    """
    order = _order_for_session(session)
    if order is None:
        logger.warning("session %s names no known order (%r); ignored", session.id, session.order_id)
        return False
    if order.stripe_session_id != session.id:
        logger.info("session %s is not order %s's session; ignored", session.id, order.number)
        return False
    return order_transition(
        order_id=order.pk,
        to_status=to_status,
        source=source,
        stripe_event_id=stripe_event_id,
        message=f"Stripe session {session.id}",
    )


def order_refund_record(
    *, charge: stripe_gateway.StripeCharge, source: str, stripe_event_id: str = ""
) -> bool:
    """Record what Stripe says was refunded on the order's charge (`charge.refunded`).

    `amount_refunded` only grows (max of ours and Stripe's), so a refund already recorded by the
    admin, or an older event arriving late, changes nothing. Returns whether the order changed.
    """
    if not charge.payment_intent_id:
        return False
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(stripe_payment_intent_id=charge.payment_intent_id)
            .first()
        )
        if order is None:
            logger.warning("refund for unknown payment intent %s; ignored", charge.payment_intent_id)
            return False
        if order.status not in PAID_STATUSES:
            logger.error("refund on order %s in status %s; ignored", order.number, order.status)
            return False
        amount = min(max(order.amount_refunded, charge.amount_refunded), order.total_amount)
        if amount == order.amount_refunded:
            return False
        to_status = S.REFUNDED if amount >= order.total_amount else S.PARTIALLY_REFUNDED
        return order_transition(
            order_id=order.pk,
            to_status=to_status,
            source=source,
            stripe_event_id=stripe_event_id,
            message=f"refunded {amount} of {order.total_amount} {order.currency}",
            amount_refunded=amount,
        )


def order_confirm(*, session_id: str, user: AbstractBaseUser | AnonymousUser) -> Order:
    """The caller's order for `session_id`, fulfilled if Stripe says the session is paid.

    The order is looked up first (404 for unknown or someone else's session: Stripe is never
    asked about a foreign session). Only a pending order needs Stripe; a settled one is returned
    as it is, so refreshing the success page costs nothing.
    """
    order = (
        Order.objects.filter(stripe_session_id=session_id, user_id=cast(int, user.pk))
        .only("pk", "status")
        .first()
    )
    if order is None:
        raise NotFoundError("Order not found.", code="order_not_found")
    if order.status == S.PENDING:
        session = stripe_gateway.checkout_session_retrieve(session_id=session_id)
        if session.async_payment_failed:
            order_session_outcome_record(session=session, to_status=S.FAILED, source=OrderEvent.Source.API)
        else:
            order_fulfil_from_session(session=session, source=OrderEvent.Source.API)
    return order_get_for_user(order_id=order.pk, user=user)


def order_cancel(*, order_id: uuid.UUID, user: AbstractBaseUser | AnonymousUser) -> Order:
    """Cancel the caller's pending order and expire its session (409 if it is not pending or paid).

    Takes the cart lock first (the fixed order: cart, then orders), so it serialises with a
    checkout of the same cart.
    """
    base = Order.objects.filter(pk=order_id, user_id=cast(int, user.pk)).only("pk", "cart_id").first()
    if base is None:
        raise NotFoundError("Order not found.", code="order_not_found")
    conflict: ConflictError | None = None
    with transaction.atomic(durable=True):
        cart_for_update(cart_id=base.cart_id, user=user)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != S.PENDING:
            raise ConflictError(
                f"Only a pending order can be cancelled; this one is {order.status}.",
                code="order_not_pending",
            )
        outcome = order_session_close(order=order, source=OrderEvent.Source.API)
        if outcome is SessionCloseOutcome.PAID:
            conflict = ConflictError("The order was paid meanwhile.", code="order_already_paid")
        elif outcome is SessionCloseOutcome.PROCESSING:
            raise ConflictError("A payment for this order is being processed.", code="payment_in_progress")
        elif outcome is SessionCloseOutcome.FAILED:
            conflict = ConflictError(
                "The order's payment failed; it is now failed.", code="order_payment_failed"
            )
        else:
            order_transition(
                order_id=order.pk,
                to_status=S.CANCELLED,
                source=OrderEvent.Source.API,
                message="cancelled by the customer",
            )
    if conflict is not None:
        raise conflict
    return order_get_for_user(order_id=order_id, user=user)
