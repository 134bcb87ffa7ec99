"""The transactional outbox: record an event with the change, dispatch it after, sweep what was missed.

- `outbox_record` writes the `OutboxEvent` row in the caller's transaction (the order hooks call
  it) and enqueues its dispatch on commit. It does nothing slow: the paid transition pays one insert.
- `outbox_dispatch` (a job) locks the row (`SKIP LOCKED`), freezes the body every endpoint will
  receive, and creates one delivery per subscribed endpoint and the buyer's email — unique per
  event, so running it twice creates nothing twice — then enqueues them on commit.
- `outbox_sweep` (beat) re-dispatches events committed but never dispatched (the process died
  between commit and enqueue, or the broker was down) and re-enqueues deliveries and emails that
  are due. Enqueueing a row twice is harmless: the jobs lock and re-check it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from checkout.models import Order
from checkout.selectors.orders import orders_with_children
from checkout.serializers.orders import OrderSerializer
from notifications import jobs
from notifications.emails import order_email_build
from notifications.models import (
    DeliveryStatus,
    OutboundEmail,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

# An event younger than this is probably being dispatched right now by its own job.
SWEEP_GRACE = timedelta(seconds=10)


def outbox_record(*, order_id: UUID | str, event_type: str, object_id: str = "") -> OutboxEvent:
    """Write the event in the current transaction; its dispatch runs after the commit."""
    from notifications import tasks

    event = OutboxEvent.objects.create(
        public_id=OutboxEvent.new_public_id(), type=event_type, order_id=order_id, object_id=object_id
    )
    jobs.enqueue_on_commit(tasks.outbox_dispatch, event.pk)
    return event


def order_payload(order: Order) -> dict[str, Any]:
    """The order exactly as the API serializes it, minus the guest's bearer token (an
    integrator never needs to act as the buyer)."""
    data = dict(OrderSerializer(order).data)
    data["order_token"] = None
    return data


def event_body(event: OutboxEvent, order: Order) -> str:
    """`{id, type, created, data: {object: order}}` as the exact JSON text that is signed and sent."""
    payload = {
        "id": event.public_id,
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "data": {"object": order_payload(order)},
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def outbox_dispatch(*, event_pk: int) -> bool:
    """Fan the event out into deliveries and the buyer's email; False when there was nothing to do
    (already dispatched, or another worker holds it)."""
    from notifications import tasks

    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_pk, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        order = orders_with_children(Order.objects.filter(pk=event.order_id)).get()
        body = event_body(event, order)
        now = timezone.now()
        endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if e.subscribes_to(event.type)]
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=event, endpoint=e, next_attempt_at=now) for e in endpoints],
            ignore_conflicts=True,
        )
        email = order_email_build(event=event, order=order, payload=json.loads(body)["data"]["object"])
        if email is not None:
            OutboundEmail.objects.bulk_create([email], ignore_conflicts=True)
        OutboxEvent.objects.filter(pk=event.pk).update(body=body, dispatched_at=now)
        for delivery_pk in event.deliveries.filter(status=DeliveryStatus.PENDING).values_list(
            "pk", flat=True
        ):
            jobs.enqueue_on_commit(tasks.webhook_deliver, delivery_pk)
        for email_pk in event.emails.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True):
            jobs.enqueue_on_commit(tasks.email_send, email_pk)
    return True


def outbox_sweep(*, limit: int = 1000) -> dict[str, int]:
    """Enqueue what should be moving and is not; how many of each it enqueued."""
    from notifications import tasks

    now = timezone.now()
    events = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=now - SWEEP_GRACE)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    deliveries = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    emails = list(
        OutboundEmail.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in events:
        jobs.enqueue(tasks.outbox_dispatch, pk)
    for pk in deliveries:
        jobs.enqueue(tasks.webhook_deliver, pk)
    for pk in emails:
        jobs.enqueue(tasks.email_send, pk)
    return {"events": len(events), "deliveries": len(deliveries), "emails": len(emails)}


def outbox_purge(*, before: datetime) -> dict[str, int]:
    """Delete finished deliveries and emails created before `before`, then the events left with
    neither (pending rows are never purged: they are still owed)."""
    deliveries, _ = (
        WebhookDelivery.objects.filter(created_at__lt=before).exclude(status=DeliveryStatus.PENDING).delete()
    )
    emails, _ = (
        OutboundEmail.objects.filter(created_at__lt=before).exclude(status=DeliveryStatus.PENDING).delete()
    )
    events, _ = OutboxEvent.objects.filter(
        created_at__lt=before, dispatched_at__isnull=False, deliveries__isnull=True, emails__isnull=True
    ).delete()
    return {"deliveries": deliveries, "emails": emails, "events": events}
