"""The webhook scenario: every checkout session paid, its event delivered twice, and counted once.

fakestripe records the `checkout.session.completed` events without delivering them; the harness
re-signs each with the server's secret and posts it from 8 senders (first delivery), then again
(replays), then once with a wrong secret (must be a 400). Exactly once means: one paid order per
session, one `paid` OrderEvent per order, one `ProviderEvent` row per event.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from functools import partial
from typing import Any

from django.db import connections
from django.urls import reverse

from bench.common import Checks, log
from bench.load import Call, latency_summary, post, run_parallel
from checkout.models import Order, OrderEvent
from devtools.fakestripe_process import FakeStripeServer
from fakestripe.signing import sign
from payments.models import ProviderEvent


def _pay(stripe: FakeStripeServer, session_id: str) -> Call:
    t0 = time.perf_counter()
    response = stripe.pay(session_id)
    return Call(response.status_code, time.perf_counter() - t0, None)


def _deliver(url: str, secret: str, body: bytes) -> Call:
    return post(
        url, data=body, headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, secret)}
    )


def completed_events(stripe: FakeStripeServer, session_ids: set[str], checks: Checks) -> list[dict[str, Any]]:
    """Pay every session at fakestripe; the `checkout.session.completed` events it recorded."""
    log(f"webhooks: paying {len(session_ids)} sessions at fakestripe (events recorded, not delivered)")
    paid = run_parallel([partial(_pay, stripe, sid) for sid in sorted(session_ids)], workers=8)[0]
    checks.expect(all(c.status == 200 for c in paid), "fakestripe refused to pay some sessions")
    records = stripe.events(type="checkout.session.completed")
    events = [r["event"] for r in records if r["event"]["data"]["object"]["id"] in session_ids]
    checks.expect(
        len(events) == len(session_ids), f"{len(events)} completed events for {len(session_ids)} sessions"
    )
    checks.expect(not any(r["delivered"] for r in records), "fakestripe delivered events on its own")
    return events


def webhooks_run(
    base: str, stripe: FakeStripeServer, secret: str, session_ids: set[str], checks: Checks
) -> dict[str, Any]:
    """Deliver every session's completed event, replay them all, forge one; check exactly once."""
    events = completed_events(stripe, session_ids, checks)
    bodies = [json.dumps(event).encode() for event in events]
    url = base + reverse("payments-webhook")

    first, first_wall = run_parallel([partial(_deliver, url, secret, b) for b in bodies], workers=8)
    replay, replay_wall = run_parallel([partial(_deliver, url, secret, b) for b in bodies], workers=8)
    forged = _deliver(url, "whsec_wrong", bodies[0])
    checks.expect(
        all(c.status == 200 for c in first), f"webhook statuses {sorted({c.status for c in first})}"
    )
    checks.expect(
        all(c.status == 200 for c in replay), f"replay statuses {sorted({c.status for c in replay})}"
    )
    checks.expect(forged.status == 400, f"forged signature answered {forged.status}")

    connections.close_all()
    orders = Order.objects.filter(provider_session_id__in=session_ids)
    paid_orders = orders.filter(status=Order.Status.PAID).count()
    paid_events = OrderEvent.objects.filter(order__in=orders, to_status=Order.Status.PAID)
    per_order = Counter(paid_events.values_list("order_id", flat=True))
    recorded = ProviderEvent.objects.filter(event_id__in=[e["id"] for e in events]).count()
    exactly_once = (
        paid_orders == len(session_ids)
        and len(per_order) == len(session_ids)
        and all(n == 1 for n in per_order.values())
    )
    checks.expect(
        paid_orders == len(session_ids), f"{paid_orders} paid orders for {len(session_ids)} sessions"
    )
    checks.expect(exactly_once, "not exactly one paid OrderEvent per order")
    checks.expect(recorded == len(events), f"{recorded} ProviderEvent rows for {len(events)} events")
    figures = {
        "events": len(bodies),
        "events_per_second": len(bodies) / first_wall,
        "replay_per_second": len(bodies) / replay_wall,
        "paid_orders": paid_orders,
        "paid_events_max_per_order": max(per_order.values(), default=0),
        "provider_event_rows": recorded,
        "exactly_once": exactly_once,
        "client_retries": sum(c.retried for c in first) + sum(c.retried for c in replay),
        **latency_summary([c.seconds for c in first]),
    }
    log(
        f"  {len(bodies)} events: {figures['events_per_second']:.0f}/s first delivery, "
        f"{figures['replay_per_second']:.0f}/s replays; exactly once: {exactly_once}"
    )
    return {"webhooks": figures}
