"""Settlement: the ONE mapping from what the payment provider says to what happens to an order.

Confirm, cancel, a superseding checkout, reconciliation and webhooks all end here:

| session state (payments.interface) | order                                                   |
|------------------------------------|---------------------------------------------------------|
| PAID                               | pending → paid, once; the cart is checked out (1)       |
| FAILED                             | pending → failed (2)                                    |
| EXPIRED                            | pending → expired (2)                                   |
| PROCESSING, OPEN                   | unchanged: still payable, or a payment is under way     |

(1) A paid session whose amounts, currency or id disagree with the order (`_mismatches`: its
    subtotal must be the order's, its total subtotal + shipping − discount + tax as it reports
    them), or whose order is no longer pending, is logged at ERROR and noted on the order (which
    stays as it was, for staff): money is never dropped silently. Paying stores the reported
    amounts, the chosen shipping method and the address on the order in the same UPDATE.
(2) Only the order's current session counts; a superseded session's news changes nothing.

Closing a session on purpose (`order_session_close`) asks the provider to expire it. If the
provider says it is no longer open, the session's real state is settled by the table above;
if we closed it, the reason decides: the customer's cancel and a superseding checkout cancel
the order, reconciliation of a session past its expiry expires it.

`order_settle` may be called any number of times, from anywhere: the conditional update in
`order_transition` makes exactly one caller move the order and write its one event.

A call about a session that fails without an answer (a timeout, "still in progress") leaves the
outcome unknown: the session may exist, may have been closed. Such an order is marked
(`session_unclear_since`) and `order_session_resolve` learns the truth before anything relies on
the session: a create is sent again with the same idempotency key and parameters (the provider
answers with the session it made, or makes it now, once), a close is followed by a retrieve. So
a cart never has two payable sessions, and a session paid after a timeout still pays its order.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from checkout.locks import lock_cart_of_order
from checkout.models import Cart, Order, OrderEvent, OrderItem, ShippingMethod
from checkout.services.refunds import order_refund_record, refund_event_record
from checkout.services.transitions import order_event_note, order_transition
from checkout.states import PAID_STATUSES, OrderStatus
from payments.interface import (
    CheckoutOptions,
    LineItem,
    Notification,
    PaymentSession,
    SessionNotOpen,
    SessionState,
    ShippingOption,
    gateway,
)
from shopapi.exceptions import PaymentProviderError, PaymentProviderUnavailable

logger = logging.getLogger(__name__)

S = OrderStatus

# A session state that settles a pending order, and the status it settles it to.
SETTLED_STATUS: dict[SessionState, str] = {
    SessionState.PAID: S.PAID,
    SessionState.FAILED: S.FAILED,
    SessionState.EXPIRED: S.EXPIRED,
}


class Settlement(enum.StrEnum):
    PAID = "paid"  # this call moved the order to paid
    ALREADY_PAID = "already_paid"  # an earlier call did
    FAILED = "failed"  # this call moved the order to failed
    EXPIRED = "expired"  # this call moved the order to expired
    UNCHANGED = "unchanged"  # nothing to settle (open, processing), or settled that way already
    NOT_CURRENT = "not_current"  # not the order's current session (a superseded one): ignored
    UNKNOWN_ORDER = "unknown_order"  # no order for this session
    MISMATCH = "mismatch"  # paid, but session id, amount or currency disagree with the order
    NEEDS_REFUND = "needs_refund"  # paid, but the order is cancelled/expired/failed


@dataclass(frozen=True)
class SettleResult:
    outcome: Settlement
    order_id: uuid.UUID | None = None

    @property
    def transitioned(self) -> bool:
        return self.outcome in {Settlement.PAID, Settlement.FAILED, Settlement.EXPIRED}


class CloseReason(enum.StrEnum):
    """Why we close an open session, which decides the order's status when we did close it."""

    CUSTOMER = "cancelled by the customer"
    SUPERSEDED = "superseded by a new checkout"
    TIMED_OUT = "its payment session passed its expiry"


CLOSED_STATUS: dict[CloseReason, str] = {
    CloseReason.CUSTOMER: S.CANCELLED,
    CloseReason.SUPERSEDED: S.CANCELLED,
    CloseReason.TIMED_OUT: S.EXPIRED,
}

# The outcome of `order_session_close`: the session's own state when it was no longer open, or
# CLOSED when this call closed it (and the order took `CLOSED_STATUS[reason]`).
CLOSED = "closed"


def _order_for_session(session: PaymentSession) -> Order | None:
    """The session's order; for a paid session, read with its cart locked (one statement)."""
    try:
        order_id = uuid.UUID(session.order_ref or "")
    except ValueError:
        return None
    if session.state is SessionState.PAID:
        return lock_cart_of_order(order_id)
    return Order.objects.filter(pk=order_id).first()


def _subtotal(session: PaymentSession) -> int | None:
    """The lines' sum as the provider reports it (its total, when it reports no parts)."""
    return session.amount_subtotal if session.amount_subtotal is not None else session.amount_total


def _chosen_option(order: Order, session: PaymentSession) -> ShippingOption | None:
    options = CheckoutOptions.from_dict(order.checkout_options).shipping_options
    return next((option for option in options if option.ref == session.shipping_ref), None)


def _mismatches(order: Order, session: PaymentSession) -> list[str]:
    """Why a paid session cannot settle the order: another session; a subtotal or currency
    other than the order's; parts that do not add up to the total; a shipping amount other than
    the chosen option's (none offered: 0); a discount above the subtotal."""
    problems = []
    if order.provider_session_id and order.provider_session_id != session.id:
        problems.append(f"session {session.id} is not the order's session {order.provider_session_id}")
    subtotal = _subtotal(session)
    if subtotal != order.subtotal_amount:
        problems.append(f"amount_subtotal {subtotal} != order subtotal {order.subtotal_amount}")
    elif (
        expected := subtotal + session.amount_shipping - session.amount_discount + session.amount_tax
    ) != session.amount_total:
        problems.append(
            f"amount_total {session.amount_total} != subtotal + shipping - discount + tax {expected}"
        )
    if session.currency != order.currency:
        problems.append(f"currency {session.currency!r} != order currency {order.currency!r}")
    chosen = _chosen_option(order, session)
    if session.amount_shipping != (chosen.amount if chosen is not None else 0):
        problems.append(f"amount_shipping {session.amount_shipping} is not the chosen shipping option's")
    if subtotal is not None and session.amount_discount > subtotal:
        problems.append(f"amount_discount {session.amount_discount} > subtotal {subtotal}")
    return problems


def _chosen_method(chosen: ShippingOption | None) -> ShippingMethod | None:
    """Our method behind the chosen option: None without one, or when it was deleted since."""
    if chosen is None or not chosen.ref.isdigit():
        return None
    return ShippingMethod.objects.filter(pk=int(chosen.ref)).first()


def _paid_fields(
    session: PaymentSession, chosen: ShippingOption | None, method: ShippingMethod | None
) -> dict[str, Any]:
    """The amounts, shipping method and address the provider reports, written with `paid`."""
    address = session.shipping_address
    return {
        "total_amount": session.amount_total,
        "subtotal_amount": _subtotal(session),
        "shipping_amount": session.amount_shipping,
        "discount_amount": session.amount_discount,
        "tax_amount": session.amount_tax,
        "shipping_method_id": method.pk if method is not None else None,  # deleted since: the name stays
        "shipping_method_name": chosen.name if chosen is not None else "",
        "shipping_rate_id": session.shipping_rate_id or "",
        "shipping_address": dataclasses.asdict(address) if address is not None else None,
    }


def _note_unserved_country(
    order: Order, session: PaymentSession, method: ShippingMethod | None, source: str, event_id: str
) -> None:
    """The payment page offers every method whatever the address: note a method that does not
    serve the address's country, for staff to sort out before shipping."""
    address = session.shipping_address
    if method is not None and address is not None and not method.serves(address.country):
        message = f"shipping method {method.name!r} does not serve {address.country}: check before shipping"
        order_event_note(order=order, source=source, message=message, provider_event_id=event_id)


def _settle_paid(order: Order, session: PaymentSession, source: str, event_id: str) -> SettleResult:
    problems = _mismatches(order, session)
    if problems:
        message = f"paid session {session.id} does not match the order: " + "; ".join(problems)
        logger.error("order %s: %s", order.number, message)
        order_event_note(order=order, source=source, message=message, provider_event_id=event_id, once=True)
        return SettleResult(Settlement.MISMATCH, order.pk)

    if order.status in (S.PENDING, S.FAILED):
        # A failed order can be paid only through a session it never learned of (an orphan of a
        # create that timed out, before sessions were resolved): the money is taken, so it pays.
        # The order was read with its cart locked (`_order_for_session`): the lock order is the
        # cart, then its orders (as checkout and cancel take them), since a webhook holding the
        # order row while waiting for the cart could deadlock with a checkout holding the cart
        # while waiting for the order. (So the chosen method's one-row read, made only when a
        # shipping option was chosen, runs under the lock: cheaper than a separate order read.)
        chosen = _chosen_option(order, session)
        method = _chosen_method(chosen)
        moved = order_transition(
            order_id=order.pk,
            to_status=S.PAID,
            from_status=order.status,
            source=source,
            provider_event_id=event_id,
            paid_at=timezone.now(),
            payment_id=session.payment_id or "",
            provider_session_id=session.id,
            session_unclear_since=None,
            **_paid_fields(session, chosen, method),
        )
        if moved:
            Cart.objects.filter(pk=order.cart_id, status=Cart.Status.OPEN).update(
                status=Cart.Status.CHECKED_OUT, updated_at=timezone.now()
            )
            order.status = S.PAID
            _note_unserved_country(order, session, method, source, event_id)
            return SettleResult(Settlement.PAID, order.pk)
        order.refresh_from_db(fields=["status"])

    if order.status in PAID_STATUSES:
        return SettleResult(Settlement.ALREADY_PAID, order.pk)

    message = f"paid session {session.id} for a non-pending order: needs a refund"
    logger.error("order %s (%s): %s", order.number, order.status, message)
    order_event_note(order=order, source=source, message=message, provider_event_id=event_id, once=True)
    return SettleResult(Settlement.NEEDS_REFUND, order.pk)


def order_settle(*, session: PaymentSession, source: str, event_id: str = "") -> SettleResult:
    """Apply what the provider says of a session to its order (the table in the module docstring).

    Inside a caller's transaction (the webhook's) this adds no savepoint: nothing here catches a
    database error, so one rolls the caller's whole transaction back."""
    with transaction.atomic(savepoint=False):
        order = _order_for_session(session)
        if order is None:
            logger.warning("session %s names no known order (%r); ignored", session.id, session.order_ref)
            return SettleResult(Settlement.UNKNOWN_ORDER)
        if session.state is SessionState.PAID:
            return _settle_paid(order, session, source, event_id)
        to_status = SETTLED_STATUS.get(session.state)
        if to_status is None:
            return SettleResult(Settlement.UNCHANGED, order.pk)
        if order.provider_session_id != session.id:
            logger.info("session %s is not order %s's session; ignored", session.id, order.number)
            return SettleResult(Settlement.NOT_CURRENT, order.pk)
        moved = order_transition(
            order_id=order.pk,
            to_status=to_status,
            from_status=S.PENDING,
            source=source,
            provider_event_id=event_id,
            message=f"{gateway().display_name} session {session.id}",
        )
        return SettleResult(Settlement(to_status) if moved else Settlement.UNCHANGED, order.pk)


def order_session_close(*, order: Order, source: str, reason: CloseReason) -> SessionState | str:
    """Make the order's payment session unpayable, or learn (and settle) what became of it.

    Returns `CLOSED` when this call closed it (the order then took `CLOSED_STATUS[reason]`), else
    the session's state, already settled: PAID, FAILED, EXPIRED or PROCESSING. Provider errors
    propagate as `PaymentProviderError`.
    """
    if order.provider_session_id:
        try:
            gateway().session_expire(session_id=order.provider_session_id)
        except SessionNotOpen:
            session = gateway().session_retrieve(session_id=order.provider_session_id)
            if session.state is SessionState.OPEN:
                raise PaymentProviderError(
                    f"The payment provider refused to close session {session.id}, which is open."
                ) from None
            order_settle(session=session, source=source)
            return session.state
    order_transition(
        order_id=order.pk,
        to_status=CLOSED_STATUS[reason],
        from_status=S.PENDING,
        source=source,
        message=reason.value,
    )
    return CLOSED


def order_session_create(*, order: Order, line_items: list[LineItem] | None = None) -> PaymentSession:
    """Open the order's payment session: always the same parameters and idempotency key for one
    order (its snapshot, its `session_expires_at`), so sending it again can only get the same one.
    `line_items` spares reading the snapshot back when the caller has just written it."""
    assert order.session_expires_at is not None  # set with the order, before the first attempt
    if line_items is None:
        items = OrderItem.objects.filter(order=order).order_by("id")
        line_items = [LineItem(item.label, item.unit_amount, item.quantity) for item in items]
    return gateway().session_create(
        options=CheckoutOptions.from_dict(order.checkout_options),
        order_ref=str(order.pk),
        order_number=order.number,
        line_items=line_items,
        currency=order.currency,
        customer_email=order.customer_email or None,
        expires_at=order.session_expires_at,
        idempotency_key=f"checkout:{order.pk}",
    )


def order_session_record(*, order: Order, session: PaymentSession) -> None:
    """Store the session the provider made for the order (and that its outcome is known)."""
    order.provider_session_id = session.id
    order.checkout_url = session.url or ""
    order.session_expires_at = session.expires_at
    order.session_unclear_since = None
    Order.objects.filter(pk=order.pk).update(
        provider_session_id=session.id,
        checkout_url=order.checkout_url,
        session_expires_at=session.expires_at,
        session_unclear_since=None,
        updated_at=timezone.now(),
    )


def order_session_unclear(*, order: Order, source: str, what: str) -> None:
    """Record that a call about the order's session got no answer; resolved before it is relied on."""
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(session_unclear_since=now, updated_at=now)
    order.session_unclear_since = now
    order_event_note(
        order=order, source=source, message=f"{what} got no answer; its outcome is checked before reuse"
    )


def order_session_resolve(*, order: Order, source: str) -> None:
    """Learn what became of the order's session after a call that got no answer (see above).

    Raises `PaymentProviderUnavailable` while the provider still can't answer (the order stays
    unclear). Call it under the cart's lock.
    """
    if order.session_unclear_since is None:
        return
    if not order.provider_session_id:
        try:
            session = order_session_create(order=order)
        except PaymentProviderUnavailable:
            raise
        except PaymentProviderError as exc:  # the provider answered: that key made no session
            order_transition(
                order_id=order.pk,
                to_status=S.FAILED,
                from_status=S.PENDING,
                source=source,
                message=f"creating the payment session failed: {exc.code}",
                session_unclear_since=None,
            )
            order.refresh_from_db()
            return
        order_session_record(order=order, session=session)
    else:
        session = gateway().session_retrieve(session_id=order.provider_session_id)
        Order.objects.filter(pk=order.pk).update(session_unclear_since=None)
        order.session_unclear_since = None
    if session.state is not SessionState.OPEN:
        order_settle(session=session, source=source)
        order.refresh_from_db()


def settle_notification(notification: Notification) -> bool:
    """Settle a verified webhook event; False when it is about nothing shopapi acts on."""
    source = OrderEvent.Source.WEBHOOK
    if notification.session is not None:
        order_settle(session=notification.session, source=source, event_id=notification.event_id)
        return True
    if notification.refund is not None:
        refund_event_record(refund=notification.refund, source=source, event_id=notification.event_id)
        return True
    if notification.refunded is not None:
        order_refund_record(refunded=notification.refunded, source=source, event_id=notification.event_id)
        return True
    return False
