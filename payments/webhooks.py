"""Webhook intake: verify the provider's signature, record each event once, hand it to settlement.

`webhook_receive` lets the gateway verify the raw body and read the event into a neutral
`Notification`, then in ONE transaction inserts the `ProviderEvent` row (unique `event_id`: a
replay hits the constraint and changes nothing), passes the notification to
`checkout.services.settlement.settle_notification` and sets `processed_at`. If settlement fails,
everything rolls back (the event row too), the view answers 500 and the provider delivers the
event again later.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.services.settlement import settle_notification
from payments.interface import gateway
from payments.models import ProviderEvent

payments_log = logging.getLogger("shopapi.payments")


class WebhookOutcome(enum.StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # verified, recorded, but not a type we act on


@dataclass(frozen=True)
class WebhookResult:
    outcome: WebhookOutcome
    event_id: str
    event_type: str


def _log(outcome: WebhookOutcome, event_id: str, event_type: str) -> None:
    payments_log.info(
        "provider event %s %s: %s",
        event_id,
        event_type,
        outcome,
        extra={"event_id": event_id, "type": event_type, "outcome": str(outcome)},
    )


def webhook_receive(*, payload: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Verify, record once and settle one webhook delivery.

    Raises `WebhookSignatureInvalid` (400) for a missing, forged or stale signature; lets a
    settlement error propagate after rolling everything back, so the provider retries.
    """
    notification = gateway().webhook_parse(payload=payload, headers=headers)
    event_id, event_type = notification.event_id, notification.type
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                record = ProviderEvent.objects.create(
                    event_id=event_id, type=event_type, payload=notification.payload
                )
        except IntegrityError:
            _log(WebhookOutcome.DUPLICATE, event_id, event_type)
            return WebhookResult(WebhookOutcome.DUPLICATE, event_id, event_type)
        acted = settle_notification(notification)
        ProviderEvent.objects.filter(pk=record.pk).update(processed_at=timezone.now())
    outcome = WebhookOutcome.PROCESSED if acted else WebhookOutcome.IGNORED
    _log(outcome, event_id, event_type)
    return WebhookResult(outcome, event_id, event_type)
