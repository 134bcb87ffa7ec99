"""Celery tasks: thin wrappers over the services, each idempotent by row id.

Every task may run twice (a redelivered message, the sweep re-enqueueing a row already queued,
two workers): the services lock the row with `SKIP LOCKED` and re-check its state, so the second
run does nothing. Periodic tasks (beat, shopapi/settings_jobs.py) run under `single_flight`, so two
beat instances by mistake still run each job once at a time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications.single import single_flight

logger = logging.getLogger(__name__)


@shared_task(name="notifications.outbox_dispatch")
def outbox_dispatch(event_pk: int) -> bool:
    from notifications.outbox import outbox_dispatch as dispatch

    return dispatch(event_pk=event_pk)


@shared_task(name="notifications.webhook_deliver")
def webhook_deliver(delivery_pk: int) -> str:
    from notifications.webhooks import webhook_deliver as deliver

    return deliver(delivery_pk=delivery_pk)


@shared_task(name="notifications.email_send")
def email_send(email_pk: int) -> str:
    from notifications.emails import email_send as send

    return send(email_pk=email_pk)


@shared_task(name="notifications.outbox_sweep")
def outbox_sweep() -> dict[str, int] | None:
    from notifications.outbox import outbox_sweep as sweep

    with single_flight("outbox_sweep") as mine:
        return sweep() if mine else None


@shared_task(name="notifications.reconcile_payments")
def reconcile_payments() -> dict[str, int] | None:
    from checkout.services.reconcile import payments_reconcile

    with single_flight("reconcile_payments") as mine:
        if not mine:
            return None
        summary = payments_reconcile(older_than=timedelta(minutes=15))
        logger.info("reconcile_payments: %s", summary)
        return dict(vars(summary))


@shared_task(name="notifications.purge")
def purge() -> dict[str, int] | None:
    from checkout.services.carts import guest_carts_purge
    from idempotency.services import idempotency_keys_purge
    from notifications.outbox import outbox_purge

    with single_flight("purge") as mine:
        if not mine:
            return None
        return {
            "guest_carts": guest_carts_purge(older_than=timedelta(days=int(settings.GUEST_CART_TTL_DAYS))),
            "idempotency_keys": idempotency_keys_purge(),
            **outbox_purge(before=timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)),
        }
