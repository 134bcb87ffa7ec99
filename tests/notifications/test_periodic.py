"""Periodic jobs: each runs in one place at a time (advisory lock), and each does its work."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery import Task
from django.db import connection
from django.utils import timezone

from notifications import tasks
from notifications.models import DeliveryStatus, OutboundEmail, OutboxEvent, WebhookDelivery, WebhookEndpoint
from notifications.single import single_flight
from tests.checkout.backoffice import make_order

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def hold_lock(name: str, held: threading.Event, release: threading.Event) -> threading.Thread:
    """Hold `single_flight(name)` on another connection (another beat, another worker)."""

    def run() -> None:
        try:
            with single_flight(name) as mine:
                assert mine
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert held.wait(30)
    return thread


@pytest.mark.parametrize("task", [tasks.outbox_sweep, tasks.reconcile_payments, tasks.purge])
def test_a_periodic_job_does_not_run_while_another_process_runs_it(task: Task) -> None:
    # given: the job's lock is held elsewhere
    held, release = threading.Event(), threading.Event()
    thread = hold_lock(task.name.split(".")[-1], held, release)
    try:
        # when / then
        assert task() is None
    finally:
        release.set()
        thread.join()
    # and once it is free, the job runs
    assert task() is not None


def test_single_flight_is_released_after_the_job() -> None:
    with single_flight("x") as first:
        assert first
    with single_flight("x") as again:
        assert again


def test_purge_deletes_finished_rows_older_than_the_retention_and_keeps_what_is_owed() -> None:
    # given: old delivered and pending deliveries, an old sent email, and a recent delivered one
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/x", secret="whsec_x")
    order = make_order()
    old = timezone.now() - timedelta(days=31)

    def event() -> OutboxEvent:
        return OutboxEvent.objects.create(
            public_id=OutboxEvent.new_public_id(),
            type="order.paid",
            order=order,
            dispatched_at=timezone.now(),
        )

    done, owed, recent = event(), event(), event()
    for e, status in (
        (done, DeliveryStatus.DELIVERED),
        (owed, DeliveryStatus.PENDING),
        (recent, DeliveryStatus.DELIVERED),
    ):
        WebhookDelivery.objects.create(
            event=e, endpoint=endpoint, status=status, next_attempt_at=timezone.now()
        )
    OutboundEmail.objects.create(
        event=done, kind="receipt", to="a@example.com", subject="s", text="t", status=DeliveryStatus.SENT,
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    OutboxEvent.objects.filter(pk__in=[done.pk, owed.pk]).update(created_at=old)
    WebhookDelivery.objects.filter(event__in=[done, owed]).update(created_at=old)
    OutboundEmail.objects.update(created_at=old)

    # when
    result = tasks.purge()

    # then
    assert result is not None
    assert (result["deliveries"], result["emails"], result["events"]) == (1, 1, 1)
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {owed.pk, recent.pk}
    assert WebhookDelivery.objects.filter(event=owed, status=DeliveryStatus.PENDING).exists()
    assert {"guest_carts", "idempotency_keys"} <= set(result)
