"""The webhook scenario: every checkout session paid, its event delivered twice, and counted once.

fakestripe records the `checkout.session.completed` events without delivering them. The checkout
scenarios' sessions are topped up with pending orders made for this scenario alone (parallel HTTP
checkouts of fresh carts, not timed) to `--webhook-events`, so the rate is measured over a few
seconds rather than the start-up of the senders. The harness then signs every event with the
server's secret, as Stripe would (Stripe signs, the server only verifies: signing is not in the
timed window), and posts them from 8 keep-alive `http.client` senders (`bench.load.post_all`).

What is measured: first deliveries per second = events / wall time from the senders' release to
the last answer, each answer checked (200 `{"received": true}`), and where the CPU of that
window went (the server, PostgreSQL, the senders, other work on the machine: `bench.webhook_proc`).
Then every event is signed and posted again (replays: each must answer `duplicate: true`), then
one is forged (wrong secret: must be a 400). Exactly once means: one paid order per session, one
`paid` OrderEvent per order, one `ProviderEvent` row per event.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.db import connections
from django.urls import reverse

from bench.checkouts import carts_for, checkout_post
from bench.common import Checks, log
from bench.load import Call, latency_summary, post_all, run_parallel
from bench.webhook_proc import cpu_share, snapshot
from checkout.models import Order, OrderEvent
from devtools.fakestripe_process import FakeStripeServer
from fakestripe.signing import sign
from payments.models import ProviderEvent

SENDERS = 8


def _pay(stripe: FakeStripeServer, session_id: str) -> Call:
    t0 = time.perf_counter()
    response = stripe.pay(session_id)
    return Call(response.status_code, time.perf_counter() - t0, None)


def _signed(bodies: list[bytes], secret: str) -> list[tuple[bytes, dict[str, str]]]:
    return [
        (body, {"Content-Type": "application/json", "Stripe-Signature": sign(body, secret)})
        for body in bodies
    ]


def pending_sessions(base: str, count: int, checks: Checks) -> set[str]:
    """`count` more pending orders with open sessions, for this scenario (parallel HTTP checkouts)."""
    if count <= 0:
        return set()
    log(f"webhooks: {count} more pending orders (checkouts of fresh carts, not timed)")
    carts = carts_for("bench-webhook", count)
    calls = run_parallel(
        [partial(checkout_post, base, cart, token) for cart, token in carts], workers=SENDERS
    )[0]
    checks.expect(
        all(c.status == 201 for c in calls), f"webhook checkouts: {sorted({c.status for c in calls})}"
    )
    return {c.body["session_id"] for c in calls if c.status == 201}


def completed_events(stripe: FakeStripeServer, session_ids: set[str], checks: Checks) -> list[dict[str, Any]]:
    """Pay every session at fakestripe; the `checkout.session.completed` events it recorded."""
    log(f"webhooks: paying {len(session_ids)} sessions at fakestripe (events recorded, not delivered)")
    paid = run_parallel([partial(_pay, stripe, sid) for sid in sorted(session_ids)], workers=SENDERS)[0]
    checks.expect(all(c.status == 200 for c in paid), "fakestripe refused to pay some sessions")
    records = stripe.events(type="checkout.session.completed")
    events = [r["event"] for r in records if r["event"]["data"]["object"]["id"] in session_ids]
    checks.expect(
        len(events) == len(session_ids), f"{len(events)} completed events for {len(session_ids)} sessions"
    )
    checks.expect(not any(r["delivered"] for r in records), "fakestripe delivered events on its own")
    return events


def _answered(calls: list[Call], *, duplicate: bool) -> bool:
    """Every answer a 200 acknowledging the event: a first delivery processed (or, when the
    client had to send it again on a new connection, possibly a duplicate), a replay a duplicate."""
    expected = {"received": True, "duplicate": True} if duplicate else {"received": True}
    return all(
        c.status == 200
        and (c.body == expected or (c.retried and c.body == {"received": True, "duplicate": True}))
        for c in calls
    )


def webhooks_run(
    base: str,
    stripe: FakeStripeServer,
    secret: str,
    session_ids: set[str],
    checks: Checks,
    *,
    events: int = 0,
    server_pids: Sequence[int] = (),
) -> dict[str, Any]:
    """Deliver every session's completed event, replay them all, forge one; check exactly once.

    `events`: at least this many events (more pending orders are made when the checkout
    scenarios left fewer sessions). `server_pids` (gunicorn's masters): where the CPU of the first
    deliveries went (`bench.webhook_proc`)."""
    session_ids = session_ids | pending_sessions(base, events - len(session_ids), checks)
    recorded_events = completed_events(stripe, session_ids, checks)
    bodies = [json.dumps(event).encode() for event in recorded_events]
    url = base + reverse("payments-webhook")

    log(f"webhooks: {len(bodies)} first deliveries from {SENDERS} senders, then replays, then a forged one")
    requests = _signed(bodies, secret)
    before = snapshot(server_pids) if server_pids else None
    first, first_wall = post_all(url, requests, workers=SENDERS)
    cpu = cpu_share(before, snapshot(server_pids), len(bodies)) if before and server_pids else {}
    replay, replay_wall = post_all(url, _signed(bodies, secret), workers=SENDERS)
    (forged,), _ = post_all(url, _signed(bodies[:1], "whsec_wrong"), workers=1)
    checks.expect(
        _answered(first, duplicate=False),
        f"webhook answers {sorted({(c.status, json.dumps(c.body)) for c in first})[:5]}",
    )
    checks.expect(
        _answered(replay, duplicate=True),
        f"replay answers {sorted({(c.status, json.dumps(c.body)) for c in replay})[:5]}",
    )
    checks.expect(forged.status == 400, f"forged signature answered {forged.status}")

    connections.close_all()
    orders = Order.objects.filter(provider_session_id__in=session_ids)
    paid_orders = orders.filter(status=Order.Status.PAID).count()
    paid_events = OrderEvent.objects.filter(order__in=orders, to_status=Order.Status.PAID)
    per_order = Counter(paid_events.values_list("order_id", flat=True))
    recorded = ProviderEvent.objects.filter(event_id__in=[e["id"] for e in recorded_events]).count()
    exactly_once = (
        paid_orders == len(session_ids)
        and len(per_order) == len(session_ids)
        and all(n == 1 for n in per_order.values())
    )
    checks.expect(
        paid_orders == len(session_ids), f"{paid_orders} paid orders for {len(session_ids)} sessions"
    )
    checks.expect(exactly_once, "not exactly one paid OrderEvent per order")
    checks.expect(recorded == len(bodies), f"{recorded} ProviderEvent rows for {len(bodies)} events")
    figures = {
        "events": len(bodies),
        "events_per_second": len(bodies) / first_wall,
        "first_wall_seconds": first_wall,
        "replay_per_second": len(bodies) / replay_wall,
        "senders": SENDERS,
        "paid_orders": paid_orders,
        "paid_events_max_per_order": max(per_order.values(), default=0),
        "provider_event_rows": recorded,
        "exactly_once": exactly_once,
        "client_retries": sum(c.retried for c in first) + sum(c.retried for c in replay),
        **latency_summary([c.seconds for c in first]),
        "cpu_per_event": cpu,
    }
    log(
        f"  {len(bodies)} events: {figures['events_per_second']:.0f}/s first delivery "
        f"({first_wall:.2f} s), {figures['replay_per_second']:.0f}/s replays; exactly once: {exactly_once}"
    )
    if cpu:
        log(
            f"  CPU per first delivery: server {cpu['server_ms']:.1f} ms, "
            f"postgres {cpu['postgres_ms']:.1f} ms, senders {cpu['senders_ms']:.1f} ms, "
            f"other work {cpu['others_ms']:.1f} ms; "
            f"machine {cpu['machine_busy_percent']:.0f} % busy; "
            f"busiest server process {cpu['busiest_process_percent']:.0f} % of the server's CPU"
        )
    return {"webhooks": figures}
