"""In-process cost of one webhook delivery: CPU and wall per first delivery, queries, commits.

The webhook scenario of `make bench` (bench/webhook_delivery.py) measures events/s over HTTP on a
shared 2-core VM; this measures what the server spends on one event, in-process, with the same
settings (production, `DEBUG=0`, Redis as cache and broker, so jobs go to the publisher thread).
Its own database (`--db`, copied from bench.cpu's seeded template with `--keep-db`), a fakestripe
subprocess, then per round:

1. 2 x `--events` carts checked out in-process (POST /carts/{id}/checkout/ through the WSGI app:
   real orders, reservations and Checkout Sessions at fakestripe), every session paid at
   fakestripe and its recorded `checkout.session.completed` event signed (none of this is timed);
2. half of the events posted through the WSGI application (`wsgi`: middleware, DRF, view,
   `webhook_receive`), half given to `webhook_receive` directly (`receive`), each timed with
   `time.process_time` (this process's CPU, the job-publisher thread's included; PostgreSQL's is
   not in it) and `perf_counter` (wall, which includes waiting for PostgreSQL and its commit);
3. every event posted again (replays: must be duplicates).

Then it prints per mode the best and median of the rounds (ms per event), the replays' CPU, the
gateway's parse alone, the CPU of the PostgreSQL backend per first delivery, the statements and
commits of one first delivery and of its replay, and checks exactly once (one paid order and one
`paid` OrderEvent per session, one processed ProviderEvent per event). `--profile wall|cpu`
profiles `--events` WSGI first deliveries instead (pyinstrument, or cProfile timed with
`process_time`; both overstate Python-heavy code), written to bench/out/webhook_profile_<kind>.txt.

    .venv/bin/python -m bench.webhook_cpu --keep-db --db shopapi_bench_cpu_wh \
        --redis-url redis://127.0.0.1:6379/11 --rounds 5 --events 100
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import API, log
from bench.cpu import harness, harness_parser, wsgi_environ
from bench.run import WEBHOOK_SECRET
from devtools.fakestripe_process import FakeStripeServer, start_fakestripe

WEBHOOK_PATH = f"{API}/payments/stripe/webhook/"
MODES = ("wsgi", "receive")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness_parser(__doc__, db="shopapi_bench_webhook_cpu")
    parser.add_argument("--events", type=int, default=100, help="events per mode per round")
    parser.add_argument(
        "--profile",
        choices=("wall", "cpu"),
        default="",
        help="profile WSGI first deliveries instead: pyinstrument (wall) or cProfile on process_time (cpu)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stripe = start_fakestripe(webhook_secret=WEBHOOK_SECRET)
    try:
        stripe.config(auto_deliver=False)
        extra = {
            "STRIPE_API_BASE": stripe.base_url,
            "STRIPE_TIMEOUT_SECONDS": "10",
            "THROTTLE_CHECKOUT": "1000000/min",
            "THROTTLE_CHECKOUT_ADDRESS": "1000000/min",
        }
        with harness(args, extra):
            return _measure(args, stripe)
    finally:
        stripe.stop()


# -- events ----------------------------------------------------------------------------------------


def _wsgi_post(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return wsgi_environ(path, method="POST", body=body, headers=headers)


def _app_call(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    chunks = app(environ, lambda s, h, exc=None: status.append(s))
    body = b"".join(chunks)
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    return status[0], body


def signed_events(app: Callable[..., Any], stripe: FakeStripeServer, count: int, tag: str) -> list[bytes]:
    """`count` carts checked out through the app, paid at fakestripe: their completed events' bodies."""
    from bench.checkouts import carts_for

    carts = carts_for(f"bench-wh-{tag}", count)
    session_ids = []
    for cart, token in carts:
        status, body = _app_call(
            app,
            _wsgi_post(f"{API}/carts/{cart.pk}/checkout/", b"{}", {"Authorization": f"Bearer {token}"}),
        )
        if not status.startswith("201"):
            raise RuntimeError(f"checkout answered {status}: {body[:300]!r}")
        session_ids.append(json.loads(body)["session_id"])
    for sid in session_ids:
        if stripe.pay(sid).status_code != 200:
            raise RuntimeError(f"fakestripe refused to pay {sid}")
    wanted = set(session_ids)
    events = [
        r["event"]
        for r in stripe.events(type="checkout.session.completed")
        if r["event"]["data"]["object"]["id"] in wanted
    ]
    if len(events) != count:
        raise RuntimeError(f"{len(events)} completed events for {count} sessions")
    return [json.dumps(event).encode() for event in events]


def _headers(body: bytes) -> dict[str, str]:
    from fakestripe.signing import sign

    return {"Stripe-Signature": sign(body, WEBHOOK_SECRET)}


# -- counting --------------------------------------------------------------------------------------


@contextmanager
def counting() -> Iterator[tuple[list[str], list[int]]]:
    """The default connection's statements (through `execute_wrapper`, which Django's per-request
    query log reset does not touch) and its commits (each an fsync with synchronous_commit on)."""
    from django.db import connection

    statements: list[str] = []
    commits = [0]
    original = connection.commit

    def commit() -> None:
        commits[0] += 1
        original()

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            yield statements, commits
    finally:
        del connection.commit


# -- the measurement -------------------------------------------------------------------------------


def _deliver_all(app: Callable[..., Any], bodies: list[bytes], mode: str, expect: str) -> tuple[float, float]:
    """Deliver every body (signed just before, outside the timing); (CPU ms, wall ms) per event."""
    from payments.webhooks import webhook_receive

    signed = [(body, _headers(body)) for body in bodies]
    cpu = wall = 0.0
    for body, headers in signed:
        if mode == "wsgi":
            environ = _wsgi_post(WEBHOOK_PATH, body, headers)
            c0, w0 = time.process_time(), time.perf_counter()
            status, answer = _app_call(app, environ)
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
            outcome = "duplicate" if b"duplicate" in answer else "processed"
            if not status.startswith("200"):
                raise RuntimeError(f"webhook answered {status}: {answer[:300]!r}")
        else:
            c0, w0 = time.process_time(), time.perf_counter()
            result = webhook_receive(payload=body, headers=headers)
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
            outcome = str(result.outcome)
        if outcome != expect:
            raise RuntimeError(f"{mode}: expected {expect}, got {outcome}")
    return cpu / len(bodies) * 1000, wall / len(bodies) * 1000


def exactly_once(bodies: list[bytes]) -> list[str]:
    """What is wrong with the settled events (empty: exactly once)."""
    from checkout.models import Order, OrderEvent
    from payments.models import ProviderEvent

    events = [json.loads(b) for b in bodies]
    session_ids = {e["data"]["object"]["id"] for e in events}
    orders = Order.objects.filter(provider_session_id__in=session_ids)
    problems = []
    paid = orders.filter(status=Order.Status.PAID).count()
    if paid != len(session_ids):
        problems.append(f"{paid} paid orders for {len(session_ids)} sessions")
    per_order = Counter(
        OrderEvent.objects.filter(order__in=orders, to_status=Order.Status.PAID).values_list(
            "order_id", flat=True
        )
    )
    if len(per_order) != len(session_ids) or any(n != 1 for n in per_order.values()):
        problems.append("not exactly one paid OrderEvent per order")
    recorded = ProviderEvent.objects.filter(
        event_id__in=[e["id"] for e in events], processed_at__isnull=False
    ).count()
    if recorded != len(events):
        problems.append(f"{recorded} processed ProviderEvent rows for {len(events)} events")
    return problems


def _measure(args: argparse.Namespace, stripe: FakeStripeServer) -> int:
    from bench.wsgi import application

    # Warm-up: imports, connections, the publisher thread; also counts one event's queries/commits.
    warm = signed_events(application, stripe, 3, "warm")
    _deliver_all(application, warm[:1], "wsgi", "processed")
    with counting() as (queries, commits):
        _deliver_all(application, warm[1:2], "wsgi", "processed")
    with counting() as (queries_dup, commits_dup):
        _deliver_all(application, warm[1:2], "wsgi", "duplicate")
    _deliver_all(application, warm[2:], "receive", "processed")

    if args.profile:
        return _profile(application, stripe, args.events, args.profile)

    times: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    problems: list[str] = []
    replay_cpu: list[float] = []
    for round_no in range(args.rounds):
        bodies = signed_events(application, stripe, 2 * args.events, f"r{round_no}")
        halves = {"wsgi": bodies[: args.events], "receive": bodies[args.events :]}
        order = MODES if round_no % 2 == 0 else MODES[::-1]
        for mode in order:
            times[mode].append(_deliver_all(application, halves[mode], mode, "processed"))
        replay_cpu.append(_deliver_all(application, bodies, "wsgi", "duplicate")[0])
        problems += exactly_once(bodies)
        log(
            f"round {round_no + 1}: "
            + ", ".join(f"{m} {times[m][-1][0]:.2f} ms CPU {times[m][-1][1]:.2f} ms wall" for m in MODES)
        )

    print(f"\n{'first delivery':<16}{'best CPU':>10}{'med CPU':>10}{'best wall':>11}{'med wall':>10}")
    for mode in MODES:
        cpus = [c for c, _ in times[mode]]
        walls = [w for _, w in times[mode]]
        print(
            f"{mode:<16}{min(cpus):>10.2f}{statistics.median(cpus):>10.2f}"
            f"{min(walls):>11.2f}{statistics.median(walls):>10.2f}"
        )
    print(f"{'replay (wsgi)':<16}{min(replay_cpu):>10.2f}{statistics.median(replay_cpu):>10.2f}")
    print(f"{'parse only':<16}{_parse_cpu(warm[0]):>10.2f}")
    backend = _postgres_cpu(application, stripe, args.events)
    if backend is not None:
        print(f"{'postgres (wsgi)':<16}{backend:>10.2f}   (its backend's CPU per first delivery)")
    print(f"\nfirst delivery: {len(queries)} queries, {commits[0]} commits")
    for sql in queries:
        print(f"  {sql[:160]}")
    print(f"replay: {len(queries_dup)} queries, {commits_dup[0]} commits")
    print("exactly once: " + ("yes" if not problems else "NO: " + "; ".join(problems)))
    return 1 if problems else 0


def _postgres_cpu(app: Callable[..., Any], stripe: FakeStripeServer, count: int) -> float | None:
    """CPU ms of this connection's PostgreSQL backend per first delivery (/proc; None elsewhere)."""
    from django.db import connection

    from bench.webhook_proc import cpu_seconds

    bodies = signed_events(app, stripe, count, "pg")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    before = cpu_seconds(pid)
    _deliver_all(app, bodies, "wsgi", "processed")
    after = cpu_seconds(pid)
    if before is None or after is None:
        return None
    return (after - before) / count * 1000


def _parse_cpu(body: bytes, repeat: int = 500) -> float:
    """CPU ms of the gateway's `webhook_parse` alone (signature check and reading), best of 3."""
    from payments.interface import gateway

    headers = _headers(body)
    best = float("inf")
    for _ in range(3):
        c0 = time.process_time()
        for _ in range(repeat):
            gateway().webhook_parse(payload=body, headers=headers)
        best = min(best, (time.process_time() - c0) / repeat * 1000)
    return best


def _profile(app: Callable[..., Any], stripe: FakeStripeServer, count: int, kind: str) -> int:
    bodies = signed_events(app, stripe, count, "profile")
    out = Path(__file__).resolve().parent / "out" / f"webhook_profile_{kind}.txt"
    out.parent.mkdir(exist_ok=True)
    if kind == "cpu":
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        _deliver_all(app, bodies, "wsgi", "processed")
        profiler.disable()
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(40)
        text = stream.getvalue()
    else:
        from pyinstrument import Profiler

        wall = Profiler(interval=0.0005)
        wall.start()
        _deliver_all(app, bodies, "wsgi", "processed")
        wall.stop()
        text = wall.output_text(unicode=False, color=False, show_all=False)
    out.write_text(text)
    print(text)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
