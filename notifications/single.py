"""`single_flight(name)`: run a periodic job in one place at a time, whoever scheduled it.

Two beat instances started by mistake, or a beat tick that lands while the last run is still
going, must not run a job twice at once. On PostgreSQL this is a session advisory lock
(`pg_try_advisory_lock`), released when the job ends or its connection dies — a lock, not luck.
Elsewhere (SQLite under `make run`, one process) the cache's atomic `add` stands in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import connection


def _lock_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"shopapi:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def single_flight(name: str, *, timeout: int = 3600) -> Iterator[bool]:
    """Yield True when this process holds the `name` lock (and run the job), False otherwise."""
    if connection.vendor == "postgresql":
        key = _lock_id(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    cache_key = f"single-flight:{name}"
    acquired = cache.add(cache_key, 1, timeout)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(cache_key)
