"""Buyer emails and account emails: rows in the outbox, rendered when written, sent once by a job.

- Order emails (receipt, shipped, refunded) are built at dispatch from the order exactly as the
  API serializes it, from plain-text and HTML templates under
  `notifications/templates/notifications/email/` — one per event (a unique constraint), so
  retries and a second dispatch never mail twice.
- Account emails (password reset, verification) are queued by `email_queue` in the request's
  transaction: a rolled-back registration mails no one. Their bodies hold single-use links, so a
  sent account email's body is blanked.
- `email_send` locks the row (`SKIP LOCKED`), sends it through Django's email framework
  (`EMAIL_URL`) and marks it sent in the same transaction; a relay that fails is retried with
  backoff for `WEBHOOK_RETRY_HOURS`, then the row is `failed`.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.money import format_money as money
from notifications import jobs
from notifications.events import EMAIL_FOR_EVENT
from notifications.models import DeliveryStatus, OutboundEmail

if TYPE_CHECKING:
    from checkout.models import Order
    from notifications.models import OutboxEvent

logger = logging.getLogger(__name__)

TEMPLATES = "notifications/email"


def _shipment(payload: dict[str, Any], object_id: str) -> dict[str, Any] | None:
    shipments = payload.get("shipments") or []
    return next((s for s in shipments if str(s.get("id")) == object_id), shipments[-1] if shipments else None)


def order_email_build(*, event: OutboxEvent, order: Order, payload: dict[str, Any]) -> OutboundEmail | None:
    """The buyer's email for `event` (not saved), or None when the event sends none or the order
    has no address to send to."""
    template = EMAIL_FOR_EVENT.get(event.type)
    to = order.customer_email
    if template is None or not to:
        return None
    currency = payload["currency"]
    context = {
        "order": payload,
        "event_type": event.type,
        "lines": [
            {
                **item,
                "total": money(item["line_total"], currency),
                "unit": money(item["unit_amount"], currency),
            }
            for item in payload["items"]
        ],
        "total": money(payload["total_amount"], currency),
        "refunded": money(payload.get("amount_refunded", 0), currency),
        "amounts": {
            key: money(payload[key], currency)
            for key in ("subtotal_amount", "shipping_amount", "discount_amount", "tax_amount")
            if isinstance(payload.get(key), int)
        },
        "shipment": _shipment(payload, event.object_id) if template == "shipped" else None,
        "shop_name": settings.SHOP_NAME,
    }
    subject = " ".join(render_to_string(f"{TEMPLATES}/{template}_subject.txt", context).split())
    return OutboundEmail(
        event=event,
        kind=template,
        to=to,
        subject=subject,
        text=render_to_string(f"{TEMPLATES}/{template}.txt", context),
        html=render_to_string(f"{TEMPLATES}/{template}.html", context),
        next_attempt_at=timezone.now(),
    )


def email_queue(*, kind: str, to: str, subject: str, text: str, html: str = "") -> OutboundEmail:
    """Queue an email in the current transaction; it is sent after the commit."""
    from notifications import tasks

    email = OutboundEmail.objects.create(
        kind=kind, to=to, subject=subject, text=text, html=html, next_attempt_at=timezone.now()
    )
    jobs.enqueue_on_commit(tasks.email_send, email.pk)
    return email


def email_send(*, email_pk: int) -> str:
    """Send the email once; `sent`, `retry`, `failed` or `skipped`."""
    from notifications import tasks
    from notifications.webhooks import backoff

    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if email is None:
            return "skipped"
        message = EmailMultiAlternatives(subject=email.subject, body=email.text, to=[email.to])
        if email.html:
            message.attach_alternative(email.html, "text/html")
        email.attempts += 1
        now = timezone.now()
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning("email %s to %s not sent: %s", email.pk, email.to, email.last_error)
            if now - email.created_at >= timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
                email.status = DeliveryStatus.FAILED
                email.save()
                return "failed"
            email.next_attempt_at = now + backoff(email.attempts)
            email.save()
            jobs.retry_later(
                tasks.email_send, email.pk, countdown=(email.next_attempt_at - now).total_seconds()
            )
            return "retry"
        email.status = DeliveryStatus.SENT
        email.sent_at = now
        email.last_error = ""
        if email.event_id is None:
            # An account email's body holds a single-use link: not kept once it is sent.
            email.text = email.html = ""
        email.save()
    return "sent"
