"""Real Celery workers on Redis: nothing lost when no worker was there, nothing sent twice by two.

The workers and beat are real processes (`celery -A shopapi worker|beat`) on the test database,
with Redis DB 13 as broker; the webhook receiver runs in this process and verifies every
signature. Rows are committed here (`transaction=True`), as the web process would commit them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import redis
from celery import Celery
from django.utils import timezone

from checkout.models import Order
from devtools.live import ROOT, server_env, stop_process
from notifications import jobs
from notifications.models import DeliveryStatus, OutboundEmail, OutboxEvent, WebhookDelivery
from tests.checkout.backoffice import make_order
from tests.e2e.test_generated_client import _database_url
from tests.notifications.conftest import Receiver, endpoint_for

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")

Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def broker() -> Iterator[str]:
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield BROKER
    client.flushdb()


@pytest.fixture
def spawn(broker: str, tmp_path: Path) -> Iterator[Spawn]:
    """Start `celery -A shopapi <args>` on the test database; every process is stopped at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(*args: str, **extra_env: str) -> subprocess.Popen[bytes]:
        env = server_env(
            database_url=_database_url(),
            extra={
                "REDIS_URL": broker,
                "WEBHOOKS_ALLOW_PRIVATE": "1",
                "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
                "OUTBOX_SWEEP_SECONDS": "1",
                "EMAIL_URL": "dummymail://",
                **extra_env,
            },
        )
        log = tmp_path / f"celery-{len(processes)}.log"
        logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "shopapi", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=out,
            )
        processes.append(process)
        return process

    yield start
    for process in processes:
        stop_process(process, grace=10)
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text[-3000:]


def worker(spawn: Spawn, name: str, concurrency: int = 2) -> subprocess.Popen[bytes]:
    return spawn(
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={concurrency}",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
    )


def beat(spawn: Spawn, tmp_path: Path) -> subprocess.Popen[bytes]:
    schedule = tempfile.mktemp(dir=tmp_path, prefix="beat-")  # noqa: S306 - a fresh name for beat's file
    return spawn("beat", "--loglevel=WARNING", f"--schedule={schedule}", "--pidfile=")


def send(broker: str, task: str, *args: object) -> None:
    app = Celery(broker=broker, set_as_current=False)
    app.send_task(task, args=args)
    app.close()


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def lost_events(orders: list[Order], per_order: int = 1) -> list[OutboxEvent]:
    """Events committed with their change whose dispatch job was never enqueued (the process died
    between commit and enqueue), old enough for the sweep."""
    with mock.patch.object(jobs, "enqueue", return_value=False):
        events = [
            OutboxEvent.objects.create(public_id=OutboxEvent.new_public_id(), type="order.paid", order=order)
            for order in orders
            for _ in range(per_order)
        ]
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    return events


def test_nothing_is_lost_when_no_worker_ran_and_a_failing_endpoint_gets_four_attempts(
    receiver: Receiver, spawn: Spawn, broker: str, tmp_path: Path
) -> None:
    # given: an endpoint that answers 500 three times, then 200; a paid order whose event was
    # committed while no worker (and no enqueue) happened
    receiver.script = [500, 500, 500]
    endpoint_for(receiver)
    order = make_order()
    (event,) = lost_events([order])

    # when: a worker and beat start later
    worker(spawn, "w1")
    beat(spawn, tmp_path)

    # then: one delivery, four attempts, delivered; one receipt email sent
    wait_for(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists(), 60, "the delivery"
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (4, 200)
    assert receiver.ids() == [event.public_id] * 4
    wait_for(lambda: OutboundEmail.objects.filter(status=DeliveryStatus.SENT).count() == 1, 30, "the receipt")
    time.sleep(2)  # a few more sweeps: nothing more is sent
    assert len(receiver.received) == 4
    assert OutboundEmail.objects.count() == 1


def test_two_workers_and_two_beats_deliver_1000_events_each_once(
    receiver: Receiver, spawn: Spawn, broker: str, tmp_path: Path
) -> None:
    # given: 1,000 events in the outbox, none dispatched
    endpoint_for(receiver)
    orders = [make_order() for _ in range(10)]
    events = lost_events(orders, per_order=100)
    assert len(events) == 1000

    # when: two workers drain them, and two beat instances (by mistake) sweep every second
    worker(spawn, "w1")
    worker(spawn, "w2")
    beat(spawn, tmp_path)
    beat(spawn, tmp_path)
    send(broker, "notifications.outbox_sweep")

    # then: the receiver counted each event exactly once
    wait_for(lambda: len(receiver.received) >= 1000, 240, "1,000 deliveries")
    time.sleep(3)  # further sweeps and duplicate jobs: nothing more arrives
    counts = Counter(receiver.ids())
    assert len(counts) == 1000
    assert set(counts.values()) == {1}
    assert set(counts) == {e.public_id for e in events}
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED, attempts=1).count() == 1000
