"""Webhook intake: verify the provider's signature, record each event once, hand it to settlement.

`webhook_receive` lets the gateway verify the raw body and read the event into a neutral
`Notification`, then in ONE transaction inserts the `ProviderEvent` row and passes the
notification to `checkout.services.settlement.settle_notification`. The insert comes first and
is `ON CONFLICT (event_id) DO NOTHING`: the unique index serialises two deliveries of one event
(the second waits for the first's commit, then inserts nothing) and a replay, which inserts
nothing, is answered as a duplicate without touching anything else. If settlement fails,
everything rolls back (the event row too), the view answers 500 and the provider delivers the
event again later.

`processed_at` is written with the row: the row becomes visible only when the transaction that
settled the event commits, so a committed row is always a processed one (one statement, no
second UPDATE).

The delivery's statements are prepared (`shopapi.db.prepared_statements`): each has the same shape
for every event, so PostgreSQL plans it once per connection instead of once per delivery.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from checkout.services.settlement import settle_notification
from payments.interface import gateway
from payments.models import ProviderEvent
from shopapi.db import prepared_statements

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


# Uniqueness is the constraint's, and the answer must say whether this call inserted the row:
# Django's `bulk_create(ignore_conflicts=True)` would not tell, and catching the unique violation
# needs a savepoint (two more round trips) since it aborts the transaction.
_INSERT_ONCE = (
    "INSERT INTO payments_providerevent (event_id, type, payload, received_at, processed_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING id"
)


def _record_once(*, event_id: str, event_type: str, payload: dict[str, Any]) -> bool:
    """Insert the event's row unless its id is recorded already; True when this call inserted it."""
    now = timezone.now()
    stored = ProviderEvent._meta.get_field("payload").get_db_prep_save(payload, connection)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ONCE, [event_id, event_type, stored, now, now])
        return cursor.fetchone() is not None


def webhook_receive(*, payload: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Verify, record once and settle one webhook delivery.

    Raises `WebhookSignatureInvalid` (400) for a missing, forged or stale signature; lets a
    settlement error propagate after rolling everything back, so the provider retries.
    """
    notification = gateway().webhook_parse(payload=payload, headers=headers)
    event_id, event_type = notification.event_id, notification.type
    # Every statement of a delivery has one shape whatever the event: prepared once per connection.
    # The block sits inside the transaction, so the jobs run on commit (eager mode) are not prepared.
    with transaction.atomic(durable=True), prepared_statements():
        if not _record_once(event_id=event_id, event_type=event_type, payload=notification.payload):
            outcome = WebhookOutcome.DUPLICATE
        else:
            acted = settle_notification(notification)
            outcome = WebhookOutcome.PROCESSED if acted else WebhookOutcome.IGNORED
    _log(outcome, event_id, event_type)
    return WebhookResult(outcome, event_id, event_type)
