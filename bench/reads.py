"""The GET scenarios: the catalog, a 50-line cart and a 50-order list, measured against the ceilings.

The catalog read cache (catalog/cache.py) is on, on Redis, as in production: `products` and
`detail` are served from it (the first request of each fills it), `not_modified` is a revalidation
answered 304, and `products_uncached` is the same first page answered from the database (a
parameter the endpoint does not know, `UNCACHED`, is never cached). The deep pages, price
ordering and searches carry the same parameter: their figures are the database path's.

In order: the answers are checked (bare view and API agree, deep cursors land on the expected
row, 50 lines, 50 orders), queries per request are counted in-process, then `wrk` measures each
path at 8 connections, the products/bare ratio in alternating pairs, each catalog path at one
connection, the ten search terms one by one, and the spread over 100 varied searches.
"""

from __future__ import annotations

import argparse
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

import requests

from bench import data
from bench.common import API, Checks, auth_headers, get, log
from bench.load import Result, run_wrk, run_wrk_watched

# An unknown parameter: the page is answered from the database, never from the catalog cache.
UNCACHED = "bench=uncached"
# The endpoints whose request counts are read in-process (`bench.data.count_queries`).
QUERY_COUNTED = (
    *("products", "products_uncached", "products_deep", "search", "detail", "cart", "orders", "bare"),
)
# The endpoints measured again at one connection: the cost of a request without queueing.
ONE_CONNECTION = (
    *("bare", "products", "products_uncached", "products_deep", "price_first", "price_deep", "search"),
)
# The API paths the profile may pick (the slowest at 8 connections).
PROFILED = ("products_uncached", "search", "cart", "orders")


@dataclass(frozen=True)
class ReadTargets:
    """What the GET scenarios request: paths and labels per key, the tokens, the expected rows."""

    paths: dict[str, list[str]]
    labels: dict[str, str]
    tokens: dict[str, str]
    headers: dict[str, dict[str, str]]  # more request headers per key (the 304's If-None-Match)
    cart_id: UUID
    deep_first_id: int
    price_first_id: int
    depth: int
    price_depth: int


def read_targets_create(args: argparse.Namespace, search_terms: list[str]) -> ReadTargets:
    """Users, a 50-line cart and 50 orders through the ORM, and the paths that read them."""
    log("creating users, a 50-line cart and 50 orders through the ORM")
    reader, orderer = data.users_create("bench-reader", 2)
    cart50 = data.cart_with_lines(reader, data.active_product_ids(50))
    data.orders_create(orderer, 50, product_ids=data.active_product_ids(20, offset=100))
    deep_cursor, deep_first_id, depth = data.deep_product_cursor(int(args.products * 0.9))
    price_cursor, price_first_id, price_depth = data.price_deep_cursor(int(args.products * 0.9))
    detail_id = data.active_product_ids(1, offset=min(args.products // 2, 10_000))[0]
    q = urllib.parse.quote
    paths = {
        "static": ["/bench/static"],
        "bare": ["/bench/django-bare/products/"],
        "products": [f"{API}/products/"],
        "products_uncached": [f"{API}/products/?{UNCACHED}"],
        "not_modified": [f"{API}/products/"],
        "products_deep": [f"{API}/products/?cursor={deep_cursor}&{UNCACHED}"],
        "price_first": [f"{API}/products/?ordering=unit_amount&{UNCACHED}"],
        "price_deep": [f"{API}/products/?ordering=unit_amount&cursor={price_cursor}&{UNCACHED}"],
        "search": [f"{API}/products/?search={q(term)}&{UNCACHED}" for term in search_terms],
        "detail": [f"{API}/products/{detail_id}/"],
        "cart": [f"{API}/carts/{cart50.pk}/"],
        "orders": [f"{API}/orders/?page_size=50"],
    }
    labels = {
        "static": "static WSGI (server ceiling)",
        "bare": "bare Django view (framework ceiling)",
        "products": "GET /products/ first page, cached",
        "products_uncached": "GET /products/ first page, uncached",
        "not_modified": "GET /products/ If-None-Match: 304",
        "products_deep": f"GET /products/ deep page (row {depth:,}), uncached",
        "price_first": "GET /products/?ordering=unit_amount, uncached",
        "price_deep": f"GET /products/?ordering=unit_amount deep (row {price_depth:,}), uncached",
        "search": f"GET /products/?search= ({len(search_terms)} terms), uncached",
        "detail": "GET /products/{id}/, cached",
        "cart": "GET /carts/{id}/ (50 lines)",
        "orders": "GET /orders/?page_size=50 (50 orders)",
    }
    return ReadTargets(
        paths=paths,
        labels=labels,
        tokens={"cart": data.access_token(reader), "orders": data.access_token(orderer)},
        headers={},
        cart_id=cart50.pk,
        deep_first_id=deep_first_id,
        price_first_id=price_first_id,
        depth=depth,
        price_depth=price_depth,
    )


def answers_check(base: str, targets: ReadTargets, checks: Checks) -> None:
    """Correctness before speed: each measured path answers what it should, once, unloaded."""
    paths, tokens = targets.paths, targets.tokens
    api_page = get(base + paths["products"][0]).json()
    bare_page = get(base + paths["bare"][0]).json()
    checks.expect(
        [r["id"] for r in api_page["results"]] == [r["id"] for r in bare_page["results"]],
        "bare Django view and /api/v1/products/ return different rows",
    )
    checks.expect(api_page["results"] == bare_page["results"], "bare view and API differ in content")
    checks.expect(len(api_page["results"]) == 20, "first page does not hold 20 products")
    cached = get(base + paths["products"][0])
    uncached = get(base + paths["products_uncached"][0])
    checks.expect(cached.headers.get("X-Cache") == "hit", "products: the second request was not a cache hit")
    checks.expect("X-Cache" not in uncached.headers, "products_uncached: answered from the cache")
    checks.expect(
        cached.json()["results"] == uncached.json()["results"] == bare_page["results"],
        "cached, uncached and bare first pages differ",
    )
    etag = cached.headers.get("ETag", "")
    revalidated = requests.get(base + paths["not_modified"][0], headers={"If-None-Match": etag}, timeout=30)
    checks.expect(
        revalidated.status_code == 304, f"If-None-Match answered {revalidated.status_code}, not 304"
    )
    targets.headers["not_modified"] = {"If-None-Match": etag}
    for key, first_id in (("products_deep", targets.deep_first_id), ("price_deep", targets.price_first_id)):
        page = get(base + paths[key][0])
        checks.expect(
            page.status_code == 200 and page.json()["results"][0]["id"] == first_id,
            f"{targets.labels[key]}: page did not start at product {first_id} (status {page.status_code})",
        )
    cart_answer = get(base + paths["cart"][0], tokens["cart"])
    checks.expect(
        cart_answer.status_code == 200 and len(cart_answer.json()["items"]) == 50, "cart detail: not 50 lines"
    )
    orders_answer = get(base + paths["orders"][0], tokens["orders"])
    n_orders = 0
    if orders_answer.status_code == 200:
        body = orders_answer.json()
        n_orders = len(body["results"] if isinstance(body, dict) else body)
    checks.expect(n_orders == 50, f"orders list answered {orders_answer.status_code} with {n_orders} orders")


def queries_count(targets: ReadTargets, checks: Checks) -> dict[str, int]:
    """Queries per request, in-process (same code and database as the server)."""
    counts: dict[str, int] = {}
    for key in QUERY_COUNTED:
        path = targets.paths[key][0]
        counts[key], status = data.count_queries(path, token=targets.tokens.get(key))
        checks.expect(status == 200, f"{key}: in-process GET {path} answered {status}")
    return counts


def balance_note(result: Result) -> str:
    """The busiest gunicorn worker's share of the run's CPU (`run_wrk_watched`)."""
    share = result.extra.get("worker_cpu_share")
    return "" if share is None else f"  busiest worker {share:.0%}"


def throughput(
    args: argparse.Namespace, base: str, targets: ReadTargets, checks: Checks, server_pids: Sequence[int]
) -> dict[str, Result]:
    """`wrk` at `--connections`, one endpoint at a time, the ceilings first."""
    results: dict[str, Result] = {}
    for key, label in targets.labels.items():
        result = run_wrk_watched(
            label,
            base,
            targets.paths[key],
            duration=args.duration,
            connections=args.connections,
            headers={**auth_headers(targets.tokens.get(key)), **targets.headers.get(key, {})},
            server_pids=server_pids,
        )
        results[key] = result
        checks.expect(result.errors == 0, f"{label}: {result.errors} non-2xx answers or timeouts under load")
        socket_errors = result.extra["socket_errors"]
        checks.expect(
            socket_errors <= max(5, result.requests // 20),
            f"{label}: {socket_errors} socket errors for {result.requests} requests (over 5%)",
        )
        log(
            f"{label:55s} {result.rps:8.0f} req/s  p50 {result.p50:6.1f} ms  p99 {result.p99:6.1f} ms"
            f"{balance_note(result)}"
        )
    return results


def products_bare_rounds(
    args: argparse.Namespace,
    base: str,
    paths: dict[str, list[str]],
    checks: Checks,
    server_pids: Sequence[int] = (),
) -> list[dict[str, float]]:
    """products/bare measured in alternating rounds (bare, products cached, products uncached, …).

    On a shared 2-core VM throughput drifts by 10–30 % within minutes, so one bare run followed by
    one products run measures the drift as much as the framework. Each pair here runs back to
    back for half the usual duration; the median of the pairs' ratios is the figure the target
    is read from. Odd rounds run in the reverse order (uncached, cached, bare), so a drift that
    favours whatever runs first or last favours each side in turn and cancels in the median.
    """
    rounds: list[dict[str, float]] = []
    order = ("bare", "products", "products_uncached")
    for round_no in range(args.ratio_rounds):
        pair: dict[str, float] = {}
        for key in order if round_no % 2 == 0 else tuple(reversed(order)):
            try:
                result = run_wrk_watched(
                    key,
                    base,
                    paths[key],
                    duration=args.duration / 2,
                    connections=args.connections,
                    warmup=1.0,
                    server_pids=server_pids,
                )
            except RuntimeError as exc:  # no request completed in the window: the server stalled
                log(f"ratio round, {key}: {exc}")
                pair[key] = 0.0
                continue
            checks.expect(result.errors == 0, f"ratio round, {key}: {result.errors} non-2xx/timeouts")
            pair[key] = result.rps
            pair[f"{key}_busiest_worker"] = result.extra.get("worker_cpu_share") or float("nan")
        bare = pair["bare"] or float("nan")
        pair["ratio"] = pair["products"] / bare
        pair["ratio_uncached"] = pair["products_uncached"] / bare
        rounds.append(pair)
        log(
            f"ratio round: bare {pair['bare']:.0f} req/s, products cached {pair['products']:.0f} "
            f"({pair['ratio']:.2f}), uncached {pair['products_uncached']:.0f} ({pair['ratio_uncached']:.2f});"
            " busiest worker "
            + "/".join(f"{pair.get(f'{key}_busiest_worker', float('nan')):.0%}" for key in order)
        )
    return rounds


def latency_one_connection(
    args: argparse.Namespace, base: str, targets: ReadTargets, checks: Checks
) -> dict[str, Any]:
    """One connection, one request at a time: the cost of a request without queueing.

    Under 8 connections on 2 cores a request mostly waits for the ones ahead of it; the page-depth
    and search targets are about the cost of one request, so they are read from these runs.
    """
    latency: dict[str, Any] = {}
    for key in ONE_CONNECTION:
        label = targets.labels[key]
        result = run_wrk(label, base, targets.paths[key], duration=args.duration, connections=1)
        checks.expect(result.errors == 0, f"{label} (1 connection): {result.errors} non-2xx/timeouts")
        latency[key] = asdict(result)
        log(
            f"1 conn: {label:47s} p50 {result.p50:6.1f} ms  p95 {result.p95 or 0:6.1f} ms  "
            f"p99 {result.p99:6.1f} ms"
        )
    return latency


def _timed_gets(url: str, repeats: int) -> tuple[float, requests.Response]:
    """`repeats` sequential GETs of `url`: (the median time in milliseconds, the last answer)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        response = get(url)
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[repeats // 2], response


def search_terms_time(base: str, targets: ReadTargets, search_terms: list[str]) -> dict[str, dict[str, Any]]:
    """Each of the main search terms alone: median of 5 (ms) and the rows on its page."""
    out: dict[str, dict[str, Any]] = {}
    for term, path in zip(search_terms, targets.paths["search"], strict=True):
        median_ms, response = _timed_gets(base + path, 5)
        out[term] = {"median_ms": median_ms, "results": len(response.json().get("results", []))}
    return out


def search_spread(base: str, terms: list[str], checks: Checks) -> dict[str, Any]:
    """Each varied term, one connection: checked against the unsplit query, then timed (median of 3).

    The spread of those medians across terms is the figure: a search box receives any words, and
    a fix tuned to ten fixed terms would show here.
    """
    if not terms:
        return {}
    log(f"search spread: {len(terms)} varied terms, checked against the unsplit query, then timed")
    per_term: dict[str, dict[str, Any]] = {}
    for term in terms:
        url = f"{base}{API}/products/?search={urllib.parse.quote(term)}&{UNCACHED}"
        response = get(url)
        ids = [row["id"] for row in response.json().get("results", [])] if response.ok else None
        checks.expect(response.status_code == 200, f"search {term!r}: status {response.status_code}")
        checks.expect(
            ids is None or ids == data.search_reference_ids(term),
            f"search {term!r}: the page differs from the unsplit query's",
        )
        per_term[term] = {"median_ms": _timed_gets(url, 3)[0], "results": len(ids or [])}
    medians = sorted(v["median_ms"] for v in per_term.values())

    def pct(p: float) -> float:
        return float(medians[min(len(medians) - 1, int(p * len(medians)))])

    slowest = sorted(per_term.items(), key=lambda kv: kv[1]["median_ms"])[-5:]
    return {
        "terms": len(terms),
        "p50": pct(0.50),
        "p95": pct(0.95),
        "max": medians[-1],
        "slowest": {term: round(v["median_ms"], 1) for term, v in reversed(slowest)},
        "per_term": per_term,
    }


def reads_run(
    args: argparse.Namespace,
    base: str,
    targets: ReadTargets,
    search_terms: list[str],
    checks: Checks,
    server_pids: Sequence[int] = (),
) -> tuple[dict[str, Any], dict[str, Result]]:
    """Every GET scenario in order: (the figures for the report, the 8-connection results).
    `server_pids`: gunicorn's masters, whose workers' CPU tells how a wrk run fell on them."""
    answers_check(base, targets, checks)
    out: dict[str, Any] = {"deep": {"depth": targets.depth, "price_depth": targets.price_depth}}
    out["queries"] = queries_count(targets, checks)
    wrk_results = throughput(args, base, targets, checks, server_pids)
    out["wrk"] = {key: asdict(r) for key, r in wrk_results.items()}
    out["labels"] = targets.labels
    out["ratio_rounds"] = products_bare_rounds(args, base, targets.paths, checks, server_pids)
    out["latency"] = latency_one_connection(args, base, targets, checks)
    out["search_terms"] = search_terms_time(base, targets, search_terms)
    out["search_spread"] = search_spread(base, data.search_spread_terms(args.search_spread), checks)
    return out, wrk_results
