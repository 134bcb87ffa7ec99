"""`python -m bench.idempotency`: what an Idempotency-Key costs a write, in-process (no HTTP, no queueing).

Creates its own PostgreSQL database `shopapi_bench_idempotency` (127.0.0.1:5432, user `postgres`),
migrates, seeds a few products and gives one user an open cart with one line, then times
`PATCH /api/v1/carts/{id}/items/{line}/` through Django's test client (the same URLconf, middleware,
views and database as a server, without the network) four ways, interleaved round by round so any
drift of the machine hits them alike:

- `no middleware`: IdempotencyMiddleware taken out of MIDDLEWARE, the floor;
- `no header`: the middleware installed, no Idempotency-Key (what every other request pays);
- `new key`: a fresh key per request (the insert, the view, the stored answer);
- `replay`: the same key and body again (the insert that loses, one read, no view).

"vs floor" is the median of the per-round differences from `no middleware`.

Then times the middleware's no-header branch alone (a dummy view) in nanoseconds. Prints the table;
the database is dropped at the end unless `--keep-db`. A script that prints figures, never a test.

    python -m bench.idempotency [--rounds 400] [--keep-db]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "shopapi_bench_idempotency"
MIDDLEWARE = "idempotency.middleware.IdempotencyMiddleware"
WAYS = ("no middleware", "no header", "new key", "replay")


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _setup_django() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "shopapi.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
            "SECRET_KEY": "bench-idempotency-secret-key-for-local-runs-only-0123456789",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def _quantiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p90) in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000


def _bench(rounds: int, warmup: int) -> dict[str, list[float]]:
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from catalog.models import Product

    call_command("migrate", verbosity=0)
    call_command("seed_catalog", products=5, categories=1, verbosity=0)
    user = User.objects.create_user(username="bench-idem", password="bench-password-not-secret-0")  # noqa: S106
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"}
    client = Client(**auth)
    cart = client.post("/api/v1/carts/").json()["id"]
    product = Product.objects.filter(is_active=True).order_by("pk").first()
    assert product is not None
    added = client.post(
        f"/api/v1/carts/{cart}/items/",
        {"product_id": product.pk, "quantity": 1},
        content_type="application/json",
    )
    assert added.status_code == 201, added.content
    url = f"/api/v1/carts/{cart}/items/{added.json()['id']}/"

    bare = Client(**auth)
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if name != MIDDLEWARE]):
        bare.get("/api/v1/carts/")  # its handler loads the middleware now, without ours, and keeps it
    replay_key = f"bench-replay-{uuid.uuid4()}"

    def patch(with_client: Any, quantity: int, key: str | None) -> Callable[[], Any]:
        extra: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return lambda: with_client.patch(
            url, {"quantity": quantity}, content_type="application/json", **extra
        )

    samples: dict[str, list[float]] = {way: [] for way in WAYS}
    for index in range(warmup + rounds):
        quantity = 1 + index % 2
        calls = {
            "no middleware": patch(bare, quantity, None),
            "no header": patch(client, quantity, None),
            "new key": patch(client, quantity, f"bench-{uuid.uuid4()}"),
            "replay": patch(client, 2, replay_key),
        }
        order = WAYS[index % 4 :] + WAYS[: index % 4]  # rotate, so no way always runs first
        for way in order:
            started = time.perf_counter()
            response = calls[way]()
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (way, response.status_code, response.content)
            if index >= warmup:
                samples[way].append(elapsed)
    return samples


def _no_header_branch_ns() -> float:
    """The middleware's cost for a request without the header: nanoseconds per call, dummy view."""
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from idempotency.middleware import IdempotencyMiddleware

    response = HttpResponse()

    def view(request: HttpRequest) -> HttpResponse:
        return response

    middleware = IdempotencyMiddleware(view)
    request = RequestFactory().patch(
        "/api/v1/carts/x/items/1/", {"quantity": 1}, content_type="application/json"
    )
    number = 200_000
    with_it = min(timeit.repeat(lambda: middleware(request), number=number, repeat=5))
    without = min(timeit.repeat(lambda: view(request), number=number, repeat=5))
    return (with_it - without) / number * 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400, help="timed requests per way (default 400)")
    parser.add_argument("--warmup", type=int, default=40, help="untimed rounds first (default 40)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the database {DB_NAME}")
    args = parser.parse_args(argv)

    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    try:
        _setup_django()
        log(f"timing PATCH of a cart line, {args.rounds} rounds x {len(WAYS)} ways, in-process")
        samples = _bench(args.rounds, args.warmup)
        branch_ns = _no_header_branch_ns()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')

    floor = samples["no middleware"]
    print(f"\n{'PATCH /carts/{id}/items/{line}/':<32} {'p50 ms':>8} {'p90 ms':>8} {'vs floor, ms':>13}")
    for way in WAYS:
        p50, p90 = _quantiles(samples[way])
        # The median of the per-round differences: each round ran every way back to back, so a
        # slow spell of the machine cancels out.
        paired = statistics.median(mine - base for mine, base in zip(samples[way], floor, strict=True))
        print(f"{way:<32} {p50:>8.3f} {p90:>8.3f} {paired * 1000:>+13.3f}")
    print(f"\nthe middleware's no-header branch alone: {branch_ns:.0f} ns per request (dummy view)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
