"""The catalog cache across processes: two gunicorn servers sharing Redis never serve a price the
admin changed, and show a stock change within the staleness (catalog/cache.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import SettingsWrapper

from catalog.stock import stock_adjust, stock_set
from catalog.variants import product_sync
from tests.catalog.admin_pages import page_data
from tests.e2e.test_generated_client import _database_url
from tests.factories import ProductVariantFactory, UserFactory
from tests.live import LiveServer, server_env, start_gunicorn

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

# A Redis database of its own: the test flushes it.
REDIS_URL = os.environ.get("TEST_CATALOG_REDIS_URL", "redis://127.0.0.1:6379/12")
STALENESS = 1


@pytest.fixture
def shared_redis(settings: SettingsWrapper) -> Iterator[None]:
    """This process (the admin) on the same Redis as the servers, empty."""
    settings.CACHES = {
        "default": {"BACKEND": "shopapi.redis_cache.SharedClientRedisCache", "LOCATION": REDIS_URL}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def two_servers(shared_redis: None) -> Iterator[list[LiveServer]]:
    env = server_env(
        database_url=_database_url(),
        extra={
            "REDIS_URL": REDIS_URL,
            "CATALOG_STOCK_STALENESS_SECONDS": str(STALENESS),
            "CONN_MAX_AGE": "0",
        },
    )
    servers: list[LiveServer] = []
    try:
        for _ in range(2):
            servers.append(start_gunicorn(env=env, workers=1, threads=2))
        yield servers
    finally:
        for server in servers:
            server.stop()


def _variant_of(server: LiveServer, product_id: int) -> tuple[int, int | None, str]:
    """(price, available, X-Cache) of the product's first variant, from `server`."""
    response = requests.get(f"{server.url}/api/v1/products/{product_id}/", timeout=10)
    assert response.status_code == 200, response.text
    variant = response.json()["variants"][0]
    return variant["unit_amount"], variant["available_quantity"], response.headers["X-Cache"]


def test_an_admin_price_change_is_never_stale_on_either_process_and_stock_follows(
    two_servers: list[LiveServer], client: Client
) -> None:
    # given: a product with 10 on hand, cached by both servers
    variant = ProductVariantFactory.create(unit_amount=10_000)
    product_sync([variant.product_id])
    stock_set(variant_id=variant.pk, on_hand=10, actor="t")
    product_id = variant.product_id
    for server in two_servers:
        _variant_of(server, product_id)
    assert [_variant_of(server, product_id) for server in two_servers] == [(10_000, 10, "hit")] * 2
    client.force_login(UserFactory.create(username="pricer", is_staff=True, is_superuser=True))
    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    data = page_data(client.get(url))
    data["unit_amount"] = "12500"

    # when: staff change the price in the admin (this process, committed)
    assert client.post(url, data).status_code == 302

    # then: the very next request to either server has the new price
    assert [_variant_of(server, product_id)[:2] for server in two_servers] == [(12_500, 10)] * 2

    # when: a sale takes 3 units
    stock_adjust(variant_id=variant.pk, delta=-3, actor="t")
    sold_at = time.monotonic()

    # then: both servers show 7 within the staleness (plus the time of a request)
    seen: dict[int, float] = {}
    while len(seen) < 2 and time.monotonic() - sold_at < STALENESS + 3:
        for index, server in enumerate(two_servers):
            if index not in seen and _variant_of(server, product_id)[1] == 7:
                seen[index] = time.monotonic() - sold_at
        time.sleep(0.05)
    assert sorted(seen) == [0, 1], f"stock still stale after {STALENESS + 3}s: {seen}"
    assert max(seen.values()) <= STALENESS + 1
