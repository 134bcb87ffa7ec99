"""Django's Redis cache backend, with one `redis.Redis` client per connection pool instead of one
per cache call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis(connection_pool=pool)` for every
get, set or incr. The pool (and its connections) is shared, but building the client fills its
case-insensitive table of ~80 response callbacks each time: 0.15–0.2 ms of CPU per call on this
machine, measured with a CPU-time profile of a catalog read (`python -m bench.cpu --profile`),
where four cache calls per request made it about 15 % of the request. A `redis.Redis` client
holds no per-call state and is safe to share between threads (its pool hands each command a
connection), so one per pool does the same work without rebuilding it. Everything else
(serialization, timeouts, key handling) is Django's own.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]  # Django internals, untyped
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients.setdefault(index, self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


class SharedClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `SharedClientRedisCacheClient`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def client(self, *, write: bool = False) -> Any:
        """The `redis.Redis` client the next call would use (the same one every time)."""
        return self._cache.get_client(write=write)  # type: ignore[attr-defined]  # Django's, untyped
