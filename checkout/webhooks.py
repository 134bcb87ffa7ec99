"""Stripe webhooks: signature check, exactly-once event recording, a dict of handlers by type.

`webhook_receive` verifies the signature over the raw body, then in ONE transaction inserts the
`StripeEvent` row (unique `event_id`: a replay hits the constraint and changes nothing), runs the
handler for the event type and sets `processed_at`. If a handler fails, everything rolls back
(the event row too), the view answers 500 and Stripe delivers the event again later.

Handlers build typed values from `data.object` through the gateway's parsers and call services;
the state machine makes every outcome idempotent and order-independent (an `expired` after
`paid` changes nothing).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout import stripe_gateway
from checkout.models import Order, OrderEvent, StripeEvent
from checkout.services.orders import (
    order_fulfil_from_session,
    order_refund_record,
    order_session_outcome_record,
)

logger = logging.getLogger(__name__)
payments_log = logging.getLogger("shopapi.payments")

SOURCE = OrderEvent.Source.WEBHOOK


class WebhookOutcome(enum.StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # verified, recorded, but not a type we act on


@dataclass(frozen=True)
class WebhookResult:
    outcome: WebhookOutcome
    event_id: str
    event_type: str


def _data_object(event: dict[str, Any]) -> dict[str, Any]:
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        raise ValueError("event data.object is not an object")
    return obj


def _session_completed(event: dict[str, Any]) -> None:
    session = stripe_gateway.session_from_payload(_data_object(event))
    if session.payment_status != "paid":
        logger.info("session %s completed unpaid: awaiting the async payment", session.id)
        return
    order_fulfil_from_session(session=session, source=SOURCE, stripe_event_id=event["id"])


def _async_payment_succeeded(event: dict[str, Any]) -> None:
    session = stripe_gateway.session_from_payload(_data_object(event))
    order_fulfil_from_session(session=session, source=SOURCE, stripe_event_id=event["id"])


def _async_payment_failed(event: dict[str, Any]) -> None:
    session = stripe_gateway.session_from_payload(_data_object(event))
    order_session_outcome_record(
        session=session, to_status=Order.Status.FAILED, source=SOURCE, stripe_event_id=event["id"]
    )


def _session_expired(event: dict[str, Any]) -> None:
    session = stripe_gateway.session_from_payload(_data_object(event))
    order_session_outcome_record(
        session=session, to_status=Order.Status.EXPIRED, source=SOURCE, stripe_event_id=event["id"]
    )


def _charge_refunded(event: dict[str, Any]) -> None:
    charge = stripe_gateway.charge_from_payload(_data_object(event))
    order_refund_record(charge=charge, source=SOURCE, stripe_event_id=event["id"])


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _async_payment_succeeded,
    "checkout.session.async_payment_failed": _async_payment_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
}


def webhook_receive(*, payload: bytes, sig_header: str | None) -> WebhookResult:
    """Verify, record once and handle one Stripe webhook delivery.

    Raises `WebhookSignatureInvalid` (400) for a missing, forged or stale signature; lets a
    handler's error propagate after rolling everything back, so Stripe retries.
    """
    event = stripe_gateway.webhook_event_construct(payload=payload, sig_header=sig_header)
    event_id, event_type = str(event["id"]), str(event["type"])
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, type=event_type, payload=event)
        except IntegrityError:
            payments_log.info(
                "stripe event %s %s: duplicate",
                event_id,
                event_type,
                extra={"event_id": event_id, "type": event_type, "outcome": "duplicate"},
            )
            return WebhookResult(WebhookOutcome.DUPLICATE, event_id, event_type)
        handler = HANDLERS.get(event_type)
        if handler is not None:
            handler(event)
        StripeEvent.objects.filter(pk=record.pk).update(processed_at=timezone.now())
    outcome = WebhookOutcome.PROCESSED if handler is not None else WebhookOutcome.IGNORED
    payments_log.info(
        "stripe event %s %s: %s",
        event_id,
        event_type,
        outcome,
        extra={"event_id": event_id, "type": event_type, "outcome": str(outcome)},
    )
    return WebhookResult(outcome, event_id, event_type)
