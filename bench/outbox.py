"""`python -m bench.outbox`: outbox throughput, and what the outbox adds to a paid transition.

Creates its own PostgreSQL database `shopapi_bench_outbox` (127.0.0.1:5432, user `postgres`) and
uses Redis DB 14 (127.0.0.1:6379) as Celery's broker, as production does with `REDIS_URL`.

1. **Paid transition, with and without the outbox hook**: `order_transition(pending → paid)` in
   its own transaction, the commit and the after-commit enqueue (a publish to Redis) included,
   timed in-process. Each round times one order with the hook and two without, in rotated
   order; "added" is the median of the per-round differences, so a slow spell of the machine
   cancels out, and the two ways without the hook paired the same way (A/A) show the noise.
2. **Throughput**: `--events` events committed to the outbox for one endpoint (a threaded HTTP
   receiver in this process that verifies each signature), then `--workers` real
   `celery -A shopapi worker` processes start and one sweep is sent: dispatch (order serialized,
   delivery and receipt rows) and delivery of every event, timed from the sweep to the last
   delivery. Prints deliveries/s.

A script that prints figures, never a test. The database is dropped at the end unless `--keep-db`.

    python -m bench.outbox [--rounds 300] [--events 2000] [--workers 2] [--concurrency 2] [--keep-db]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "shopapi_bench_outbox"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
BROKER = "redis://127.0.0.1:6379/14"
SECRET_KEY = "bench-outbox-secret-key-for-local-runs-only-0123456789"  # noqa: S105 - a local bench


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _env() -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "shopapi.settings",
        "DATABASE_URL": DATABASE_URL,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "0",
        "REDIS_URL": BROKER,
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "EMAIL_URL": "dummymail://",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.bad = 0
        self.lock = threading.Lock()
        self.secret = ""


def _receiver(counter: Counter) -> ThreadingHTTPServer:
    from notifications.signing import HEADER, signature_verify

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ok = signature_verify(header=self.headers.get(HEADER, ""), body=body, secret=counter.secret)
            with counter.lock:
                counter.count += 1
                counter.bad += not ok
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _orders(count: int) -> list[Any]:
    """`count` pending orders with one line each (direct inserts: the bench times transitions)."""
    from accounts.models import User
    from catalog.models import ProductVariant
    from checkout.models import Cart, Order, OrderItem

    variant = (
        ProductVariant.objects.select_related("product").filter(is_active=True, stock_on_hand=None).first()
    )
    assert variant is not None
    stamp = time.time_ns()
    user = User.objects.create_user(username=f"bench-outbox-{stamp}", email=f"buyer-{stamp}@example.com")
    orders = []
    for index in range(count):
        cart = Cart.objects.create(user=user, status=Cart.Status.CHECKED_OUT)
        order = Order.objects.create(
            number=f"BO-{time.time_ns() % 10**12}-{index}",
            user=user,
            email=user.email,
            cart=cart,
            status=Order.Status.PENDING,
            currency=variant.currency,
            total_amount=variant.unit_amount,
            content_fingerprint="b" * 64,
        )
        OrderItem.objects.create(
            order=order,
            product=variant.product,
            variant=variant,
            name=variant.product.name,
            sku=variant.sku,
            unit_amount=variant.unit_amount,
            quantity=1,
            line_total=variant.unit_amount,
        )
        orders.append(order)
    return orders


WAYS = ("with the outbox hook", "without the outbox hook", "without, again (A/A: the noise)")


def _transition_latency(rounds: int) -> dict[str, list[float]]:
    """Per round, one paid transition each way, in rotated order: with the hook, without it, and
    without it again (the A/A pair shows how far two identical ways differ on this machine)."""
    from django.db import transaction
    from django.utils import timezone

    from checkout import states
    from checkout.services.transitions import order_transition
    from notifications import hooks

    outbox_hook = hooks._outbox_on_transition
    orders = iter(_orders(len(WAYS) * (rounds + 10)))
    samples: dict[str, list[float]] = {way: [] for way in WAYS}

    def paid(keep: bool) -> float:
        order = next(orders)
        if not keep:
            states._hooks.remove(outbox_hook)
        try:
            started = time.perf_counter()
            with transaction.atomic():
                order_transition(order_id=order.pk, to_status="paid", source="bench", paid_at=timezone.now())
            return time.perf_counter() - started
        finally:
            if not keep:
                states._hooks.append(outbox_hook)

    for index in range(rounds + 10):
        shift = index % len(WAYS)
        for way in WAYS[shift:] + WAYS[:shift]:
            elapsed = paid(way == WAYS[0])
            if index >= 10:  # warm-up
                samples[way].append(elapsed)
    return samples


def _paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Median, p25 and p75 of the per-round differences a - b, in ms."""
    differences = sorted((x - y) * 1000 for x, y in zip(a, b, strict=True))
    quartile = len(differences) // 4
    return statistics.median(differences), differences[quartile], differences[-quartile - 1]


def _throughput(events: int, workers: int, concurrency: int) -> tuple[float, float, int]:
    from datetime import timedelta

    from django.db import connections
    from django.utils import timezone

    from notifications.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
    from notifications.signing import secret_generate

    counter = Counter()
    server = _receiver(counter)
    counter.secret = secret_generate()
    WebhookEndpoint.objects.create(
        url=f"http://127.0.0.1:{server.server_address[1]}/hook", secret=counter.secret
    )
    # The transitions timed before enqueued dispatches that were flushed with the broker: not ours.
    OutboxEvent.objects.filter(dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    orders = _orders(20)
    OutboxEvent.objects.bulk_create(
        OutboxEvent(public_id=OutboxEvent.new_public_id(), type="order.paid", order=orders[i % len(orders)])
        for i in range(events)
    )
    # Committed a minute ago and never dispatched: what the sweep picks up.
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    connections.close_all()
    env = {**os.environ, **_env()}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shopapi",
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={concurrency}",
                f"--hostname=bench{n}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    try:
        time.sleep(3)  # workers booted
        from notifications.tasks import outbox_sweep

        started = last_sweep = time.perf_counter()
        outbox_sweep.apply_async()
        while counter.count < events:
            time.sleep(0.05)
            now = time.perf_counter()
            if now - last_sweep >= 1.0:  # as beat would, every second: a sweep takes 1,000 at most
                outbox_sweep.apply_async()
                last_sweep = now
            if now - started > 600:
                raise TimeoutError(f"only {counter.count} of {events} deliveries in 600 s")
        elapsed = time.perf_counter() - started
        delivered = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        server.shutdown()
    assert counter.bad == 0, f"{counter.bad} deliveries with a bad signature"
    return events / elapsed, elapsed, delivered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=300, help="timed paid transitions per way (default 300)"
    )
    parser.add_argument("--events", type=int, default=2000, help="outbox events to deliver (default 2000)")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker (default 2)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the database {DB_NAME}")
    args = parser.parse_args(argv)

    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    os.environ.update(_env())
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("seed_catalog", products=5, categories=1, verbosity=0)
        log(f"paid transitions: {args.rounds} rounds, with and without the outbox hook, in-process")
        samples = _transition_latency(args.rounds)
        broker.flushdb()  # the dispatch jobs those transitions enqueued are not part of the next step
        log(f"throughput: {args.events} events, {args.workers} workers x {args.concurrency}")
        rate, elapsed, delivered = _throughput(args.events, args.workers, args.concurrency)
    finally:
        from django.db import connections

        connections.close_all()
        broker.flushdb()
        if not args.keep_db:
            _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')

    print(f"\n{'paid transition (commit + enqueue)':<40} {'p50 ms':>8} {'p90 ms':>8}")
    for way in WAYS:
        ordered = sorted(samples[way])
        p50, p90 = statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000
        print(f"{way:<40} {p50:>8.3f} {p90:>8.3f}")
    for label, (a, b) in (
        ("added by the outbox (paired)", (WAYS[0], WAYS[1])),
        ("A/A: without vs without (paired)", (WAYS[2], WAYS[1])),
    ):
        median, p25, p75 = _paired(samples[a], samples[b])
        print(f"{label:<40} median {median:+.3f} ms   p25 {p25:+.3f}   p75 {p75:+.3f}")
    print(
        f"\noutbox throughput: {args.events} events dispatched and delivered in {elapsed:.1f} s = "
        f"{rate:.0f} deliveries/s ({args.workers} workers x {args.concurrency}; {delivered} marked delivered)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
