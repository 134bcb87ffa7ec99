"""Delivering one event to one endpoint: at least once, never two workers at once, 24 h of retries.

`webhook_deliver` locks the delivery row with `SKIP LOCKED` and keeps it locked while it sends, so
a second worker that got the same job skips it; a delivered or failed row, or one not yet due, is
left alone. Any non-2xx answer, timeout or network error is retried with exponential backoff and
jitter until `WEBHOOK_RETRY_HOURS` after the delivery was created, then the row is `failed`.
An endpoint that has failed without a single success for `WEBHOOK_RETRY_HOURS` is disabled, and
its `disabled_reason` tells staff why. Receivers dedupe on the body's `id` (the event id).
"""

from __future__ import annotations

import http.client
import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications import jobs
from notifications.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from notifications.signing import HEADER, signature_header
from notifications.transport import Answer, UnsafeTarget, http_post

logger = logging.getLogger(__name__)

RESPONSE_KEPT_CHARS = 1000
MAX_BACKOFF = timedelta(hours=4)
USER_AGENT = "shopapi-webhooks/1"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: base · 2^(attempts-1), jittered ±50 %."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return min(timedelta(seconds=base * random.uniform(0.5, 1.5)), MAX_BACKOFF)  # noqa: S311 - jitter


def endpoint_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The current secret, plus the previous one while its rotation grace lasts."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        keys.append(endpoint.previous_secret)
    return keys


def _send(delivery: WebhookDelivery) -> tuple[Answer | None, str]:
    body = delivery.event.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        HEADER: signature_header(secrets_=endpoint_secrets(delivery.endpoint), body=body),
    }
    try:
        answer = http_post(
            url=delivery.endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except UnsafeTarget as exc:
        return None, f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return answer, "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"


def webhook_deliver(*, delivery_pk: int) -> str:
    """Attempt the delivery once; `delivered`, `retry`, `failed` or `skipped`."""
    from notifications import tasks

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if delivery is None:
            return "skipped"
        endpoint = delivery.endpoint
        if not endpoint.active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = f"endpoint disabled: {endpoint.disabled_reason or 'by staff'}"[:500]
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return "failed"
        answer, error = _send(delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_status_code = answer.status if answer else None
        delivery.last_response = answer.body[:RESPONSE_KEPT_CHARS] if answer else ""
        delivery.last_error = error
        if not error:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            outcome = "delivered"
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
                failing_since=None
            )
        elif now - delivery.created_at >= timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            delivery.status = DeliveryStatus.FAILED
            outcome = "failed"
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            outcome = "retry"
            jobs.retry_later(
                tasks.webhook_deliver, delivery.pk, countdown=(delivery.next_attempt_at - now).total_seconds()
            )
        delivery.save()
        if error:
            logger.warning("webhook %s to %s: %s", delivery.event.public_id, endpoint.url, error)
            _endpoint_failed(endpoint, now=now, error=error)
    return outcome


def _endpoint_failed(endpoint: WebhookEndpoint, *, now: datetime, error: str) -> None:
    """Note when the endpoint started failing; disable it once that is WEBHOOK_RETRY_HOURS ago."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    cutoff = now - timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True, failing_since__lte=cutoff).update(
        active=False,
        disabled_reason=f"disabled {now:%Y-%m-%d %H:%M} UTC: no successful delivery for "
        f"{settings.WEBHOOK_RETRY_HOURS:g} h; last error: {error}"[:500],
    )
    if disabled:
        logger.error(
            "webhook endpoint %s disabled after failing for %s h", endpoint.url, settings.WEBHOOK_RETRY_HOURS
        )


def delivery_resend(*, delivery_pk: int) -> bool:
    """Staff's "resend": the delivery goes out again now (even if it was delivered or failed)."""
    from notifications import tasks

    updated = WebhookDelivery.objects.filter(Q(pk=delivery_pk) & Q(endpoint__active=True)).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
    if updated:
        jobs.enqueue_on_commit(tasks.webhook_deliver, delivery_pk)
    return bool(updated)


def endpoint_rotate_secret(*, endpoint_pk: int, grace: timedelta = timedelta(hours=24)) -> str:
    """A new secret for the endpoint; the old one stays valid (both signatures sent) for `grace`."""
    from notifications.signing import secret_generate

    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_pk)
        new = secret_generate()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + grace
        endpoint.secret = new
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return new
