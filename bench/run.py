"""`make bench` / `python -m bench.run`: shopapi against its ceilings, on loopback, in one run.

Starts (and always stops) its own PostgreSQL database `shopapi_bench`, fakestripe and one gunicorn
(production settings, DEBUG off) serving `bench.wsgi` — shopapi plus the two reference apps — then
seeds the catalog (`manage.py seed_catalog`), creates users, carts and orders through the ORM, and
measures with `wrk` (GETs) or a thread pool of keep-alive clients (checkout, webhooks). Prints a
table; `--json` / `--plot` also write the figures and the matplotlib chart.

    python -m bench.run                 # the full run: 1,000,000 products
    python -m bench.run --quick         # 20,000 products, shorter runs
    python -m bench.run --keep-db       # keep the seeded catalog as a template for the next run
    python -m bench.run --quick --only webhooks --db shopapi_bench_wh   # the webhook scenario alone
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log  # noqa: E402
from bench.load import worker_pids  # noqa: E402
from devtools.fakestripe_process import FakeStripeServer, start_fakestripe  # noqa: E402
from devtools.live import LiveServer, free_port, server_env, start_gunicorn  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "shopapi_bench"
WEBHOOK_SECRET = "whsec_bench_local_only_0123456789"  # noqa: S105 (loopback benchmark only)
SEARCH_TERMS = [
    "skillet",
    "earbuds",
    "kurta",
    "table lamp",
    "warranty",
    "indigo",
    "heritage kettle",
    "bengaluru",
    "unobtainium",
    "yoga",
]


# -- database --------------------------------------------------------------------------------------


def admin_execute(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def database_exists(name: str) -> bool:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def drop_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def prepare_database(
    env: dict[str, str],
    *,
    products: int,
    categories: int,
    keep: bool,
    name: str = DB_NAME,
    template_of: str | None = None,
) -> dict[str, Any]:
    """Create `name` (from the cached template when allowed), migrate, seed, analyze; the template
    is named after `template_of` (default `name`), so several databases can share one."""
    template = f"{template_of or name}_seed_{products}_{categories}"
    drop_database(name)
    info: dict[str, Any] = {"template": None}
    started = time.monotonic()
    if keep and database_exists(template):
        admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        info["template"] = template
        manage(env, "migrate", "--noinput")
        log(f"database {name} copied from the cached template {template}")
    else:
        admin_execute(f'CREATE DATABASE "{name}"')
        manage(env, "migrate", "--noinput")
        log(f"seeding {products:,} products in {categories} categories (seed_catalog)...")
        out = manage(env, "seed_catalog", "--products", str(products), "--categories", str(categories))
        log(out.strip().splitlines()[-1] if out.strip() else "seeded")
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        if keep:
            drop_database(template)
            admin_execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
            log(f"kept the seeded catalog as template {template} (drop it with DROP DATABASE)")
    info["seconds"] = round(time.monotonic() - started, 1)
    return info


def redis_flush(url: str) -> None:
    """Empty the bench's own Redis database: no page or version of another run survives."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


# -- machine ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_gib, 1),
        "postgresql": row[0] if row else "?",
        "python": platform.python_version(),
        "uptime": uptime,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
    }


# -- the run ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=None, help="catalog size (default 1,000,000)")
    parser.add_argument("--categories", type=int, default=24)
    parser.add_argument("--quick", action="store_true", help="20,000 products, 5 s per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2 = cores)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--checkouts", type=int, default=None, help="sequential checkouts timed (default 200)"
    )
    parser.add_argument("--keep-db", action="store_true", help="cache the seeded catalog as a template DB")
    parser.add_argument(
        "--ratio-rounds",
        type=int,
        default=7,
        help="alternating bare/products rounds for the products/bare ratio (default 7)",
    )
    parser.add_argument(
        "--search-spread", type=int, default=100, help="varied search terms timed one by one (default 100)"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the pyinstrument profile")
    parser.add_argument(
        "--only",
        choices=("webhooks",),
        default=None,
        help="run one scenario alone: 'webhooks' skips the reads and checkouts (its pending orders "
        "are then all made by the webhook scenario)",
    )
    parser.add_argument(
        "--webhook-events",
        type=int,
        default=None,
        help="events the webhook scenario delivers at least (default 2,000, --quick too: about 5 s; "
        "the machine's speed moves by a fifth over a few seconds, so a 2-second window was luck)",
    )
    parser.add_argument(
        "--db", default=DB_NAME, help=f"database name (default {DB_NAME}), dropped at the end"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="the cache (catalog pages, throttles) of the server, FLUSHED at start and end "
        "(default redis://127.0.0.1:6379/15; '' = per-process memory)",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "results.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "out" / "benchmarks.png")
    args = parser.parse_args(argv)
    if args.products is None:
        args.products = 20_000 if args.quick else 1_000_000
    if args.duration is None:
        args.duration = 5.0 if args.quick else 10.0
    if args.checkouts is None:
        args.checkouts = 60 if args.quick else 200
    if args.webhook_events is None:
        args.webhook_events = 2_000
    return args


@dataclass
class ServerGroup:
    """The bench's server: `--workers` gunicorn processes of one gthread worker each (`--threads`
    threads), listening on one port with SO_REUSEPORT.

    One gunicorn with two workers would be the same threads and processes, but there the workers
    share one listening socket and whichever wakes first accepts: wrk's 8 keep-alive connections,
    opened at once, often all went to one worker (its CPU was 100 % of the workers' in half the
    runs), and a gthread worker runs Python on one core, so those runs measured one core of two
    (docs/benchmarks.md, "How the connections fall on the workers"). With a socket per process the
    kernel spreads the connections across them.
    """

    servers: list[LiveServer]

    @property
    def url(self) -> str:
        return self.servers[0].url

    @property
    def pids(self) -> list[int]:
        """The gunicorn master processes (their workers are their children)."""
        return [server.process.pid for server in self.servers]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(server.log_tail(lines) for server in self.servers)


def _booted(server: LiveServer, timeout: float = 60.0) -> None:
    """Wait until `server`'s worker is up (its health check may have been answered by another
    process on the shared port): it has forked a worker, which then imports the project."""
    deadline = time.monotonic() + timeout
    while not worker_pids([server.process.pid]) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)  # importing Django and the project takes the worker about 1.5 s here


@contextlib.contextmanager
def services(env: dict[str, str], args: argparse.Namespace) -> Iterator[tuple[ServerGroup, FakeStripeServer]]:
    """fakestripe (webhooks recorded, not auto-delivered) and the gunicorn group serving bench.wsgi."""
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/api/v1/payments/stripe/webhook/"
    stripe = start_fakestripe(webhook_url=webhook_url, webhook_secret=WEBHOOK_SECRET)
    group = ServerGroup([])
    try:
        stripe.config(auto_deliver=False)
        env["STRIPE_API_BASE"] = stripe.base_url
        for _ in range(args.workers):
            group.servers.append(
                start_gunicorn(
                    env=env,
                    port=port,
                    workers=1,
                    threads=args.threads,
                    app="bench.wsgi:application",
                    extra_args=["--reuse-port"],
                )
            )
        for server in group.servers:
            _booted(server)
        yield group, stripe
    finally:
        group.stop()
        stripe.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    database_url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    env = server_env(
        database_url=database_url,
        extra={
            "STRIPE_SECRET_KEY": "sk_test_bench_local",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_TIMEOUT_SECONDS": "10",
            "JWT_ACCESS_MINUTES": "600",
            "CONN_MAX_AGE": "600",
            # gunicorn.conf.py recycles a worker every ~1,000 requests (a leak guard): a fast
            # endpoint (static, cached pages, 304s) would restart both workers every few seconds
            # and measure Django's start-up (1 s stalls, dropped connections), not the endpoint.
            "GUNICORN_MAX_REQUESTS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            # whitenoise warns once per process that `staticfiles/` was never collected: an API needs none.
            "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
        },
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
        # The throttles now count in the shared Redis, for every process and this one together,
        # and every bench client is 127.0.0.1: the checkout scenarios would be 429s.
        env["THROTTLE_CHECKOUT"] = env["THROTTLE_CHECKOUT_ADDRESS"] = "1000000/min"
        redis_flush(args.redis_url)
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "machine": machine()}
    results["command"] = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    log(f"machine: {results['machine']}")
    try:
        results["database"] = prepare_database(
            env,
            products=args.products,
            categories=args.categories,
            keep=args.keep_db,
            name=args.db,
            template_of=DB_NAME,
        )
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "shopapi.settings"
        import django

        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        django.setup()
        from bench import scenarios

        with services(env, args) as (server, stripe):
            results.update(scenarios.run_all(args, server, stripe, WEBHOOK_SECRET, SEARCH_TERMS))
            results["gunicorn_log_tail"] = server.log_tail(20)
            results["uptime_end"] = subprocess.run(
                ["uptime"], capture_output=True, text=True, check=False
            ).stdout.strip()
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        drop_database(args.db)
        log(f"dropped {args.db}")
        if args.redis_url:
            redis_flush(args.redis_url)
    results["total_seconds"] = round(time.monotonic() - started, 1)
    from bench import report

    print(report.table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str))
    report.plot(results, args.plot)
    log(f"wrote {args.json} and {args.plot}; total {results['total_seconds']} s")
    return 0 if results.get("ok", False) else 1


if __name__ == "__main__":
    sys.exit(main())
