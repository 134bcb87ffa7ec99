"""`StripeGateway`: Stripe Checkout as a `payments.interface.PaymentGateway`.

The one place where Stripe's session and event vocabulary becomes a `SessionState`:

| Stripe says                                                      | state        |
|------------------------------------------------------------------|--------------|
| session `open`                                                   | OPEN         |
| session `complete` + `paid`                                      | PAID         |
| `complete` + `unpaid`, payment intent back to unpaid/canceled    | FAILED       |
| `complete`, any other payment status (async payment under way)   | PROCESSING   |
| session `expired`                                                | EXPIRED      |
| event `checkout.session.async_payment_failed`                    | FAILED       |
| event `checkout.session.expired`                                 | EXPIRED      |

A completed session's event names the chosen shipping rate by id only; the session is then
retrieved once with the rate expanded, whose metadata names our shipping method.

And where Stripe's refund statuses become a `RefundStatus`: `pending` and `requires_action` are
PENDING, `succeeded` SUCCEEDED, `failed` and `canceled` FAILED (no money went back).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from payments.interface import (
    CheckoutOptions,
    EventReferences,
    LineItem,
    Notification,
    PaymentRefunded,
    PaymentSession,
    Refund,
    RefundStatus,
    SessionState,
    WebhookSignatureInvalid,
)
from payments.stripe import api
from payments.stripe.parsing import (
    StripeRefund,
    StripeSession,
    charge_from_payload,
    id_of,
    refund_from_payload,
    session_from_payload,
)

# Stripe refuses `expires_at` sooner than 30 minutes or later than 24 hours after creation; keep a
# margin for clock skew between us and Stripe so the bounds themselves never fail.
MIN_SESSION_SECONDS = 30 * 60
MAX_SESSION_SECONDS = 24 * 60 * 60
CLOCK_SKEW_MARGIN_SECONDS = 60

# Stripe's minimum charge by settlement currency, in its minor units ("Minimum and maximum charge
# amounts"): a charge in another currency must be worth at least this once converted.
MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip


def session_state(session: StripeSession) -> SessionState:
    """The neutral state of a Checkout Session (see the module docstring's table)."""
    if session.status == "open":
        return SessionState.OPEN
    if session.status == "expired":
        return SessionState.EXPIRED
    if session.is_paid:
        return SessionState.PAID
    if session.async_payment_failed:
        return SessionState.FAILED
    return SessionState.PROCESSING


def payment_session(session: StripeSession, state: SessionState | None = None) -> PaymentSession:
    return PaymentSession(
        id=session.id,
        state=state or session_state(session),
        amount_total=session.amount_total,
        currency=session.currency,
        order_ref=session.order_id,
        payment_id=session.payment_intent_id,
        url=session.url,
        expires_at=session.expires_at,
        amount_subtotal=session.amount_subtotal,
        amount_shipping=session.amount_shipping,
        amount_discount=session.amount_discount,
        amount_tax=session.amount_tax,
        shipping_rate_id=session.shipping_rate_id,
        shipping_ref=session.shipping_method_ref,
        shipping_address=session.shipping_address,
    )


def _session_event(state: SessionState | None) -> Callable[[Mapping[str, Any]], PaymentSession]:
    """A session event's reading: the session's own state, or the one the event type asserts."""

    def read(obj: Mapping[str, Any]) -> PaymentSession:
        session = session_from_payload(obj)
        if state is None and session.shipping_rate_id and not session.shipping_rate_expanded:
            # An event names the chosen shipping rate by id only; our method's id is in the
            # rate's metadata, which a retrieve expands.
            fresh = api.checkout_session_retrieve(session_id=session.id)
            session = dataclasses.replace(session, shipping_method_ref=fresh.shipping_method_ref)
        return payment_session(session, state)

    return read


# The event types shopapi acts on; anything else is recorded and ignored.
SESSION_EVENTS: dict[str, Callable[[Mapping[str, Any]], PaymentSession]] = {
    "checkout.session.completed": _session_event(None),
    "checkout.session.async_payment_succeeded": _session_event(None),
    "checkout.session.async_payment_failed": _session_event(SessionState.FAILED),
    "checkout.session.expired": _session_event(SessionState.EXPIRED),
}
# A payment's refunds changed: read them anew.
PAYMENT_REFUNDED_EVENTS = frozenset({"charge.refunded"})
# One refund, as it stands (API versions since 2024-10-28 send these for every refund).
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
REFUND_STATUSES = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


def neutral_refund(refund: StripeRefund) -> Refund:
    return Refund(
        id=refund.id,
        status=REFUND_STATUSES.get(refund.status, RefundStatus.PENDING),
        amount=refund.amount,
        currency=refund.currency,
        payment_id=refund.payment_intent_id,
        failure_reason=refund.failure_reason,
    )


def _data_object(event: Mapping[str, Any]) -> dict[str, Any]:
    """The object an event carries; one shopapi reads needs at least its id."""
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError("event data.object has no id")
    return obj


class StripeGateway:
    """Stripe Checkout (`mode=payment`) through the official SDK (`payments/stripe/api.py`)."""

    slug = "stripe"
    display_name = "Stripe"
    signature_header = "Stripe-Signature"
    session_id_name = "stripe_session_id"
    payment_id_name = "stripe_payment_intent_id"

    def session_lifetime(self, requested: timedelta) -> timedelta:
        seconds = max(requested.total_seconds(), MIN_SESSION_SECONDS + CLOCK_SKEW_MARGIN_SECONDS)
        return timedelta(seconds=min(seconds, MAX_SESSION_SECONDS - CLOCK_SKEW_MARGIN_SECONDS))

    def minimum_charge(self, settlement_currency: str) -> int | None:
        return MINIMUM_CHARGE.get(settlement_currency.lower())

    def session_create(
        self,
        *,
        order_ref: str,
        order_number: str,
        line_items: Sequence[LineItem],
        currency: str,
        customer_email: str | None,
        expires_at: datetime,
        idempotency_key: str,
        options: CheckoutOptions | None = None,
    ) -> PaymentSession:
        return payment_session(
            api.checkout_session_create(
                options=options,
                order_id=order_ref,
                order_number=order_number,
                line_items=line_items,
                currency=currency,
                customer_email=customer_email,
                expires_at=expires_at,
                idempotency_key=idempotency_key,
            )
        )

    def session_retrieve(self, *, session_id: str) -> PaymentSession:
        return payment_session(api.checkout_session_retrieve(session_id=session_id))

    def session_expire(self, *, session_id: str) -> PaymentSession:
        return payment_session(api.checkout_session_expire(session_id=session_id))

    def refund_create(
        self, *, payment_id: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> Refund:
        return neutral_refund(
            api.refund_create(
                payment_intent_id=payment_id,
                amount=amount,
                idempotency_key=idempotency_key,
                metadata=metadata,
            )
        )

    def refunds_list(self, *, payment_id: str) -> list[Refund]:
        return [neutral_refund(refund) for refund in api.refunds_list(payment_intent_id=payment_id)]

    def webhook_parse(self, *, payload: bytes, headers: Mapping[str, str]) -> Notification:
        event = api.webhook_event_construct(payload=payload, sig_header=headers.get(self.signature_header))
        notification = Notification(event_id=str(event["id"]), type=str(event["type"]), payload=event)
        try:
            return self._read_event(notification, event)
        except (
            KeyError,
            TypeError,
            ValueError,
            OverflowError,
        ) as exc:  # signed, not the object its type names
            raise WebhookSignatureInvalid(f"The {notification.type} event's object is unreadable.") from exc

    @staticmethod
    def _read_event(notification: Notification, event: Mapping[str, Any]) -> Notification:
        read_session = SESSION_EVENTS.get(notification.type)
        if read_session is not None:
            return dataclasses.replace(notification, session=read_session(_data_object(event)))
        if notification.type in REFUND_EVENTS:
            refund = neutral_refund(refund_from_payload(_data_object(event)))
            return dataclasses.replace(notification, refund=refund)
        if notification.type in PAYMENT_REFUNDED_EVENTS:
            charge = charge_from_payload(_data_object(event))
            refunded = PaymentRefunded(charge.payment_intent_id, charge.amount_refunded)
            return dataclasses.replace(notification, refunded=refunded)
        return notification

    def event_references(self, payload: Mapping[str, Any]) -> EventReferences:
        obj = (payload.get("data") or {}).get("object") or {}
        if not isinstance(obj, Mapping):
            return EventReferences(None, None)
        metadata = obj.get("metadata") or {}
        order_ref = obj.get("client_reference_id") or (
            metadata.get("order_id") if isinstance(metadata, Mapping) else None
        )
        payment_id = id_of(obj.get("payment_intent")) if obj.get("object") in {"charge", "refund"} else None
        return EventReferences(str(order_ref) if order_ref else None, payment_id)
