"""What `bench.run` measures, once the database is seeded and the servers are up, in this order.

1. the GET scenarios (`bench.reads`): answers checked, queries counted, then timed;
   and the CPU cost of gzip on those answers (`bench.compression`);
2. the checkout scenarios (`bench.checkouts`);
3. the webhook scenario on the sessions those created, topped up to `--webhook-events`
   (`bench.webhook_delivery`);
4. a profile of the slowest API path (`bench.profiling`).

`--only webhooks` runs the third alone, on pending orders it makes itself.

Each returns plain dicts (figures + checks) that `bench.report` prints and plots. Any failed check
(a wrong answer, a second session, a lost or doubled webhook) sets `ok` to False and is listed
under `failures`; a benchmark that measured wrong answers is not a result.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bench.checkouts import checkouts_run
from bench.common import API, Checks
from bench.compression import compression_measure
from bench.profiling import profile_endpoint
from bench.reads import PROFILED, read_targets_create, reads_run
from bench.webhook_delivery import webhooks_run
from devtools.fakestripe_process import FakeStripeServer

if TYPE_CHECKING:
    from bench.run import ServerGroup


def run_all(
    args: argparse.Namespace,
    server: ServerGroup,
    stripe: FakeStripeServer,
    webhook_secret: str,
    search_terms: list[str],
) -> dict[str, Any]:
    """Every scenario against the running `server`: the figures, `failures` and `ok`."""
    checks = Checks()
    base = server.url
    if args.only == "webhooks":
        out = webhooks_run(
            base,
            stripe,
            webhook_secret,
            set(),
            checks,
            events=args.webhook_events,
            server_pids=server.pids,
        )
        out["failures"] = checks.failures
        out["ok"] = not checks.failures
        return out
    targets = read_targets_create(args, search_terms)
    out, wrk_results = reads_run(args, base, targets, search_terms, checks, server.pids)
    out["compression"] = compression_measure(
        {
            "GET /products/ (20 products)": targets.paths["products_uncached"][0],
            "GET /products/?page_size=100": f"{API}/products/?page_size=100",
            "GET /products/{id}/": targets.paths["detail"][0],
            "GET /carts/{id}/ (50 lines)": targets.paths["cart"][0],
        },
        {"GET /carts/{id}/ (50 lines)": targets.tokens["cart"]},
    )

    figures, session_ids = checkouts_run(args, base, stripe, checks)
    out.update(figures)
    out.update(
        webhooks_run(
            base,
            stripe,
            webhook_secret,
            session_ids,
            checks,
            events=args.webhook_events,
            server_pids=server.pids,
        )
    )

    if not args.no_profile:
        slowest = min(PROFILED, key=lambda k: wrk_results[k].rps)
        out["profile"] = profile_endpoint(
            targets.paths[slowest][0], targets.tokens.get(slowest), label=targets.labels[slowest]
        )

    out["failures"] = checks.failures
    out["ok"] = not checks.failures
    return out
