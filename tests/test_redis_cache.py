"""shopapi/redis_cache.py: Django's Redis cache with one client per pool, on a real Redis."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from shopapi.redis_cache import SharedClientRedisCache

# A Redis database of its own (tests/catalog/test_cache_live.py uses 12, the Celery tests 13).
REDIS_URL = os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/8")


@pytest.fixture
def redis_cache() -> Iterator[SharedClientRedisCache]:
    backend = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": "shared-client-test"})
    backend.clear()
    yield backend
    backend.clear()


def test_one_client_serves_every_call(redis_cache: SharedClientRedisCache) -> None:
    client = redis_cache.client()
    redis_cache.set("a", {"x": 1})
    assert redis_cache.client() is client
    assert redis_cache.client(write=True) is client  # one server: one pool, one client


def test_it_behaves_as_djangos_backend(redis_cache: SharedClientRedisCache) -> None:
    redis_cache.set("page", b"bytes", timeout=30)
    redis_cache.set_many({"n": 1, "m": [1, 2]})
    assert redis_cache.get("page") == b"bytes"
    assert redis_cache.get_many(["n", "m", "missing"]) == {"n": 1, "m": [1, 2]}
    assert redis_cache.incr("n", 5) == 6
    assert redis_cache.add("n", 0) is False
    redis_cache.delete("page")
    assert redis_cache.get("page") is None
    with pytest.raises(ValueError, match="never-set"):
        redis_cache.incr("never-set")


def test_the_shared_client_is_safe_across_threads(redis_cache: SharedClientRedisCache) -> None:
    redis_cache.set("counter", 0, timeout=None)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(200):
                redis_cache.incr("counter")
                assert redis_cache.get("counter") >= 1
        except BaseException as exc:  # noqa: BLE001 (reported to the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert redis_cache.get("counter") == 1600
