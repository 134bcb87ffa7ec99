"""The checkout scenarios: sequential and parallel checkouts over HTTP, and one split in-process.

- in-process (Django test client): each checkout's time split into the provider call and ours;
- over HTTP: sequential checkouts of distinct carts, then the repeat click on unchanged carts
  (the open session handed out again, no provider call);
- 100 parallel checkouts of ONE cart → exactly one order and one session;
- 100 parallel checkouts of 100 carts → 100 sessions, no deadlock, no timeout.

Sessions are counted at fakestripe through Stripe's own list call, not from our answers.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from typing import Any
from unittest import mock

from bench import data
from bench.common import API, Checks, auth_headers, log
from bench.load import Call, latency_summary, post, run_parallel
from checkout.models import Cart
from devtools.fakestripe_process import FakeStripeServer


def stripe_session_ids(stripe: FakeStripeServer) -> set[str]:
    """Every Checkout Session fakestripe holds, through Stripe's own list call (paged)."""
    ids: set[str] = set()
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = stripe.http.get(
            stripe.base_url + "/v1/checkout/sessions",
            params=params,
            headers=auth_headers("sk_test_bench_local"),
            timeout=30,
        )
        response.raise_for_status()
        page = response.json()
        ids.update(s["id"] for s in page["data"])
        if not page.get("has_more") or not page["data"]:
            return ids
        params["starting_after"] = page["data"][-1]["id"]


def carts_for(prefix: str, count: int, lines: int = 3) -> list[tuple[Cart, str]]:
    """`count` users, each with an open `lines`-line cart: (cart, the user's access token)."""
    users = data.users_create(prefix, count)
    product_ids = data.active_product_ids(200, offset=50, untracked=True)
    carts = []
    for i, user in enumerate(users):
        cart = data.cart_with_lines(user, [product_ids[(i + j) % len(product_ids)] for j in range(lines)])
        carts.append((cart, data.access_token(user)))
    return carts


def checkout_path(cart: Cart) -> str:
    return f"{API}/carts/{cart.pk}/checkout/"


def checkout_post(base: str, cart: Cart, token: str) -> Call:
    return post(base + checkout_path(cart), headers=auth_headers(token))


def checkout_split(count: int, *, stripe_base: str) -> dict[str, Any]:
    """`count` checkouts in-process (Django test client), timing the provider call apart.

    `payments.stripe.api.checkout_session_create` (which `StripeGateway.session_create` calls
    through the module attribute) is wrapped here, in the benchmark process only, so each
    checkout's time splits into the Stripe stand-in's share (the SDK call and its parsing) and
    ours (locks, queries, pricing, the gateway's neutral session, serializer, views).
    """
    from django.test import Client, override_settings

    from payments.stripe import api

    carts = carts_for("bench-split", count)
    original = api.checkout_session_create
    stripe_seconds: list[float] = []

    def timed(**kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            stripe_seconds.append(time.perf_counter() - t0)

    totals: list[float] = []
    ours: list[float] = []
    # This process read its settings before fakestripe had a port.
    with (
        override_settings(STRIPE_API_BASE=stripe_base),
        mock.patch.object(api, "checkout_session_create", timed),
    ):
        for cart, token in carts:
            client = Client(HTTP_HOST="127.0.0.1")
            before = len(stripe_seconds)
            t0 = time.perf_counter()
            # An empty JSON body, as the HTTP clients send none: the test client's default would be
            # multipart, which the API does not parse (415).
            response = client.post(
                checkout_path(cart), data={}, content_type="application/json", headers=auth_headers(token)
            )
            total = time.perf_counter() - t0
            if response.status_code != 201 or len(stripe_seconds) != before + 1:
                raise RuntimeError(f"in-process checkout answered {response.status_code}")
            totals.append(total)
            ours.append(total - stripe_seconds[-1])
    return {
        "count": count,
        "total": latency_summary(totals),
        "stripe": latency_summary(stripe_seconds),
        "ours": latency_summary(ours),
    }


def _parallel_summary(calls: list[Call], wall: float, created: set[str]) -> dict[str, Any]:
    statuses = [c.status for c in calls]
    return {
        "requests": len(calls),
        "wall_seconds": wall,
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "stripe_sessions_created": len(created),
        "client_retries": sum(c.retried for c in calls),
        **latency_summary([c.seconds for c in calls]),
    }


def parallel_one_cart(base: str, stripe: FakeStripeServer, checks: Checks) -> tuple[dict[str, Any], set[str]]:
    """100 parallel checkouts of one cart: (figures, the sessions fakestripe created)."""
    ((cart, token),) = carts_for("bench-one", 1)
    before = stripe_session_ids(stripe)
    calls, wall = run_parallel([partial(checkout_post, base, cart, token)] * 100, workers=100, barrier=True)
    created = stripe_session_ids(stripe) - before
    summary = _parallel_summary(calls, wall, created)
    sessions_answered = {c.body.get("session_id") for c in calls if isinstance(c.body, dict)}
    summary["distinct_session_ids_answered"] = len(sessions_answered)
    statuses = summary["statuses"]
    checks.expect(len(created) == 1, f"100 checkouts of one cart created {len(created)} Stripe sessions")
    checks.expect(
        statuses.get("201") == 1 and statuses.get("200") == 99,
        f"100 checkouts of one cart: statuses {statuses}",
    )
    checks.expect(len(sessions_answered) == 1, "100 checkouts of one cart answered different sessions")
    log(f"  100 x one cart: {wall:.2f} s, sessions created {len(created)}, statuses {statuses}")
    return summary, created


def parallel_many_carts(
    base: str, stripe: FakeStripeServer, checks: Checks
) -> tuple[dict[str, Any], set[str]]:
    """100 parallel checkouts of 100 carts: (figures, the sessions fakestripe created)."""
    many = carts_for("bench-many", 100)
    before = stripe_session_ids(stripe)
    calls, wall = run_parallel(
        [partial(checkout_post, base, cart, token) for cart, token in many], workers=100, barrier=True
    )
    created = stripe_session_ids(stripe) - before
    summary = _parallel_summary(calls, wall, created)
    checks.expect(len(created) == 100, f"100 checkouts of 100 carts created {len(created)} sessions")
    checks.expect(summary["statuses"].get("201") == 100, f"100 carts: statuses {summary['statuses']}")
    log(f"  100 x 100 carts: {wall:.2f} s, sessions created {len(created)}")
    return summary, created


def checkouts_run(
    args: argparse.Namespace, base: str, stripe: FakeStripeServer, checks: Checks
) -> tuple[dict[str, Any], set[str]]:
    """Every checkout scenario in order: (the figures for the report, every session id created)."""
    out: dict[str, Any] = {"checkout_split": checkout_split(args.checkouts // 2, stripe_base=stripe.base_url)}
    session_ids: set[str] = set()

    log(f"checkout latency: {args.checkouts} sequential checkouts of distinct 3-line carts")
    carts = carts_for("bench-seq", args.checkouts)
    calls = [checkout_post(base, cart, token) for cart, token in carts]
    statuses = [c.status for c in calls]
    checks.expect(all(s == 201 for s in statuses), f"sequential checkouts: statuses {sorted(set(statuses))}")
    session_ids.update(c.body["session_id"] for c in calls if c.status == 201)
    lat = out["checkout_latency"] = latency_summary([c.seconds for c in calls])
    split = out["checkout_split"]
    log(
        f"  checkout over HTTP p50 {lat['p50']:.1f} ms p99 {lat['p99']:.1f} ms; in-process: ours p50 "
        f"{split['ours']['p50']:.1f} ms p99 {split['ours']['p99']:.1f} ms, Stripe call p50 "
        f"{split['stripe']['p50']:.1f} ms"
    )
    # Second click on the same content: the open session is handed out again (200, no Stripe call).
    again = [checkout_post(base, cart, token) for cart, token in carts[:50]]
    checks.expect(
        all(c.status == 200 for c in again), "repeat checkout of unchanged carts did not answer 200"
    )
    out["checkout_repeat"] = latency_summary([c.seconds for c in again])

    out["parallel_one_cart"], created = parallel_one_cart(base, stripe, checks)
    session_ids.update(created)
    out["parallel_many_carts"], created = parallel_many_carts(base, stripe, checks)
    session_ids.update(created)
    return out, session_ids
