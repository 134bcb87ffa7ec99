"""In-process CPU per request of the read paths: steadier than HTTP throughput on a shared VM.

`make bench`'s wrk figures on this 2-core VM swing by up to 40 % between two 5-second windows of
the same endpoint; the CPU time the Django process spends on one request (`time.process_time`,
whatever else the machine does) moves by a few %. This calls the same WSGI application gunicorn
serves (`bench.wsgi`: shopapi and the bare reference view) in-process, with the same settings
(production, `DEBUG=0`, Redis cache), on its own database `shopapi_bench_cpu` (20,000 products, a
50-line cart, 50 orders, as `make bench` creates them), and prints per path the best and median of
`--rounds` rounds of `--requests` requests, the queries per request, and the ratio to the bare view.
Paths are taken in a rotated order each round so drift is shared.

    .venv/bin/python -m bench.cpu                    # every path
    .venv/bin/python -m bench.cpu --only cart,orders --rounds 7
    .venv/bin/python -m bench.cpu --keep-db          # keep the seeded catalog for the next run

PostgreSQL's own CPU is not in these figures (another process); the queries column says what it
was asked.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.common import API, log
from bench.run import ROOT, WEBHOOK_SECRET, drop_database, prepare_database, redis_flush
from devtools.live import server_env

DB_NAME = "shopapi_bench_cpu"
PATHS = ("bare", "products_uncached", "products_cached", "cart", "orders")


def wsgi_environ(
    path: str, *, method: str = "GET", body: bytes = b"", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A WSGI request as gunicorn hands it to the application (loopback, HTTP/1.1)."""
    route, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT": "*/*",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    for key, value in (headers or {}).items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    return environ


def _environ(path: str, token: str | None) -> dict[str, Any]:
    return wsgi_environ(path, headers={"Authorization": f"Bearer {token}"} if token else None)


def _caller(app: Callable[..., Any], path: str, token: str | None) -> Callable[[], tuple[str, bytes]]:
    def call() -> tuple[str, bytes]:
        status: list[str] = []
        chunks = app(_environ(path, token), lambda s, h, exc=None: status.append(s))
        body = b"".join(chunks)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        return status[0], body

    return call


def _queries(call: Callable[[], tuple[str, bytes]]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def harness_parser(doc: str | None, *, db: str) -> argparse.ArgumentParser:
    """The options every in-process harness takes (this one and bench/webhook_cpu.py)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true", help="keep the seeded catalog as a template DB")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="flushed at start")
    parser.add_argument("--db", default=db, help=f"database (default {db}), dropped at the end")
    return parser


@contextlib.contextmanager
def harness(args: argparse.Namespace, extra: dict[str, str] | None = None) -> Iterator[None]:
    """Production settings (`DEBUG=0`, Redis as cache and broker) on `args.db`, copied from the
    seeded template (`--keep-db`), Django set up in this process; the database dropped after."""
    env = server_env(
        database_url=f"postgres://postgres@127.0.0.1:5432/{args.db}",
        extra={
            "STRIPE_SECRET_KEY": "sk_test_bench_local",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "JWT_ACCESS_MINUTES": "600",
            "CONN_MAX_AGE": "600",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
            "REDIS_URL": args.redis_url,
            **(extra or {}),
        },
    )
    redis_flush(args.redis_url)
    prepare_database(
        env, products=args.products, categories=24, keep=args.keep_db, name=args.db, template_of=DB_NAME
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "shopapi.settings"
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(args.db)
        redis_flush(args.redis_url)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness_parser(__doc__, db=DB_NAME)
    parser.add_argument("--requests", type=int, default=100, help="requests per path per round")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(PATHS)}")
    parser.add_argument(
        "--profile",
        default="",
        help="profile one path with cProfile in CPU time instead of timing (BENCH_CPU_TOP rows, "
        "BENCH_CPU_DUMP=file to keep the stats)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with harness(args):
        return _measure(args)


def _measure(args: argparse.Namespace) -> int:
    from bench import data
    from bench.wsgi import application

    reader, orderer = data.users_create("bench-reader", 2)
    cart = data.cart_with_lines(reader, data.active_product_ids(50))
    data.orders_create(orderer, 50, product_ids=data.active_product_ids(20, offset=100))
    reader_token, orderer_token = data.access_token(reader), data.access_token(orderer)
    targets = {
        "bare": ("/bench/django-bare/products/", None),
        "products_uncached": (f"{API}/products/?bench=uncached", None),
        "products_cached": (f"{API}/products/", None),
        "cart": (f"{API}/carts/{cart.pk}/", reader_token),
        "orders": (f"{API}/orders/?page_size=50", orderer_token),
    }
    chosen = [p for p in PATHS if not args.only or p in args.only.split(",")]
    calls = {name: _caller(application, *targets[name]) for name in chosen}
    for name, call in calls.items():
        status, body = call()
        if not status.startswith("200"):
            log(f"{name}: {status} {body[:300]!r}")
            return 1
    queries = {name: _queries(call) for name, call in calls.items()}
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        call = calls[args.profile]
        profiler.enable()
        for _ in range(args.requests):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler)
        if os.environ.get("BENCH_CPU_DUMP"):
            stats.dump_stats(os.environ["BENCH_CPU_DUMP"])
        stats.sort_stats("cumulative").print_stats(int(os.environ.get("BENCH_CPU_TOP", "60")))
        stats.sort_stats("tottime").print_stats(25)
        return 0
    times: dict[str, list[float]] = {name: [] for name in chosen}
    for round_no in range(args.rounds):
        order = chosen[round_no % len(chosen) :] + chosen[: round_no % len(chosen)]
        for name in order:
            call = calls[name]
            t0 = time.process_time()
            for _ in range(args.requests):
                call()
            times[name].append((time.process_time() - t0) / args.requests * 1000)
    bare = min(times["bare"]) if "bare" in times else None
    print(f"\n{'path':<20}{'best ms':>10}{'median ms':>11}{'queries':>9}{'bare/path':>11}")
    for name in chosen:
        best, median = min(times[name]), statistics.median(times[name])
        ratio = f"{bare / best:.2f}" if bare else "-"
        print(f"{name:<20}{best:>10.2f}{median:>11.2f}{queries[name]:>9}{ratio:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
