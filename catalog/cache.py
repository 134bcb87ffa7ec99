"""The catalog read cache: rendered catalog pages under a catalog version that every write bumps.

One home for invalidation, no signals: every catalog write path calls `catalog_changed()` (the
admin, `seed_catalog`/`seed_demo`, `catalog.variants.product_sync`) and every stock change calls
`stock_changed()` (`catalog.stock`). Both bump a counter in Django's default cache (Redis when
`REDIS_URL` is set, so all server processes share it) with `transaction.on_commit`: after the
commit, never before (a reader between a bump and its commit would cache the old rows under
the new version).

A cached page is stored under the catalog version read BEFORE its rows were read, so:
- **prices, names, the active flag, categories**: a page built from rows older than a commit is
  stored under a version that commit's bump has left behind; no process reads that key again.
  The next request after the writer's answer misses and reads the database: never stale.
- **stock** (on hand, and what pending orders hold): each page remembers the stock counter it
  was built under. When the counter has moved since, the page is served only while it is at most
  `CATALOG_STOCK_STALENESS_SECONDS` old, then rebuilt; with 0 it is rebuilt on any stock change.
  A sale does not throw away every page at once, and checkout always checks the real stock.
  A hold that expires by the clock, before anything releases it, is a change no write reports:
  a cached page may show it held until it is released or the page's TTL ends (less available,
  never more, so this can't oversell).

Product fragments (catalog/fragments.py: one product's public JSON, which cart answers embed)
follow the same rules: each remembers the catalog version and the stock counter read before its
rows were read, and is served only under that same version (`fragments_get` reads the counters
and the fragments in one round trip, so a fragment's key does not carry the version).

The counters start at the clock in milliseconds, so a version lost with the cache (a flush, an
eviction, a restart of Redis) never comes back to a number an old page was stored under.
Only anonymous-equivalent content is cached: the catalog views ignore authentication, so the
same query is the same bytes for everyone. A cache that fails is a miss, never an error.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"
STOCK_KEY = "catalog:stock"
PAGE_PREFIX = "catalog:page"
FRAGMENT_PREFIX = "catalog:f"
# What a cache that is down raises (Redis; OSError covers refused and reset connections).
CACHE_ERRORS = (RedisError, OSError)


@dataclass(frozen=True)
class CachedPage:
    """A rendered 200 answer: its bytes (and gzip of them when large), how it was built."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str  # quoted, strong; the gzip representation is served with its weak form
    built_at: float  # time.time() when its rows were read
    stock: int  # the stock counter it was built under


def _seed() -> int:
    return int(time.time() * 1000)


def _bump(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # not there (flushed or never set): start from the clock
            if not cache.add(key, _seed(), timeout=None):
                cache.incr(key)
    except CACHE_ERRORS:  # a cache that is down serves nothing stale: pages expire by their TTL
        logger.exception("catalog cache: could not bump %s", key)


def catalog_changed() -> None:
    """A catalog write (products, variants, options, images, categories): after the commit, no
    cached page built before it is served again by any process."""
    transaction.on_commit(lambda: _bump(VERSION_KEY))


def stock_changed() -> None:
    """Stock moved (on hand, or holds): after the commit, cached pages are rebuilt once they are
    `CATALOG_STOCK_STALENESS_SECONDS` old."""
    transaction.on_commit(lambda: _bump(STOCK_KEY))


def versions() -> tuple[int, int]:
    """(catalog version, stock counter), starting them when they are missing: one round trip."""
    found = cache.get_many([VERSION_KEY, STOCK_KEY])
    if len(found) < 2:
        for key in (VERSION_KEY, STOCK_KEY):
            if key not in found:
                cache.add(key, _seed(), timeout=None)
        found = cache.get_many([VERSION_KEY, STOCK_KEY])
    return int(found[VERSION_KEY]), int(found[STOCK_KEY])


def enabled() -> bool:
    return bool(getattr(settings, "CATALOG_CACHE_ENABLED", True))


def staleness() -> int:
    return int(getattr(settings, "CATALOG_STOCK_STALENESS_SECONDS", 5))


def page_key(version: int, kind: str, identity: str) -> str:
    """The key of a page: the version, what it is, and a digest of its normalized request."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:40]
    return f"{PAGE_PREFIX}:{version}:{kind}:{digest}"


def page_get(key: str, stock: int, *, now: float | None = None) -> CachedPage | None:
    """The page under `key` when it may still be served: its stock counter is current, or it is
    at most the stock staleness old."""
    try:
        page = cache.get(key)
    except CACHE_ERRORS:
        logger.warning("catalog cache: read failed", exc_info=True)
        return None
    if not isinstance(page, CachedPage):
        return None
    return page if servable(page.built_at, page.stock, stock, now=now) else None


def servable(built_at: float, built_stock: int, stock: int, *, now: float | None = None) -> bool:
    """Whether an entry built at `built_at` under the stock counter `built_stock` may be served
    now that the counter is `stock`: it is current, or at most the stock staleness old."""
    return built_stock == stock or (now or time.time()) - built_at <= staleness()


def page_build(body: bytes, content_type: str, *, version: int, stock: int, built_at: float) -> CachedPage:
    """The cache entry for a rendered answer; the gzip of it is made once, here, when large."""
    min_bytes = int(getattr(settings, "COMPRESS_MIN_BYTES", 1024))
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if min_bytes and len(body) >= min_bytes else None
    digest = hashlib.sha256(body).hexdigest()[:20]
    return CachedPage(
        body=body,
        gzipped=gzipped,
        content_type=content_type,
        etag=f'"{version}-{digest}"',
        built_at=built_at,
        stock=stock,
    )


def page_set(key: str, page: CachedPage, *, timeout: int) -> None:
    try:
        cache.set(key, page, timeout=timeout)
    except CACHE_ERRORS:
        logger.warning("catalog cache: write failed", exc_info=True)


# --------------------------------------------------------------------------- product fragments


class CachedFragment(NamedTuple):
    """One product's public JSON (catalog/fragments.py), and how it was built: the catalog version
    and the stock counter read before its rows were read, and when."""

    body: bytes
    version: int
    built_at: float
    stock: int


def fragment_keys(origin: str, product_ids: Iterable[int]) -> dict[int, str]:
    """The key of each product's fragment: the scheme and host its image URLs are built on, the
    product. (Short: the cache checks every character of every key it is given.)"""
    prefix = f"{FRAGMENT_PREFIX}:{hashlib.sha256(origin.encode()).hexdigest()[:12]}:"
    return {pk: f"{prefix}{pk}" for pk in product_ids}


def fragments_get(keys: list[str], *, now: float | None = None) -> tuple[int, int, dict[str, bytes]]:
    """(catalog version, stock counter, the bodies under `keys` that may be served), in one round
    trip with the counters. A fragment is served only when it was built under the current catalog
    version (as a page stored under it), and its stock follows the rule of `page_get`.
    Raises `CACHE_ERRORS` when the cache is down."""
    found = cache.get_many([VERSION_KEY, STOCK_KEY, *keys])
    if VERSION_KEY not in found or STOCK_KEY not in found:  # lost: started again from the clock,
        version, stock = versions()  # above any number a fragment was built under
        return version, stock, {}
    version, stock = int(found[VERSION_KEY]), int(found[STOCK_KEY])
    when = now or time.time()
    return (
        version,
        stock,
        {
            key: entry.body
            for key in keys
            if isinstance(entry := found.get(key), CachedFragment)
            and entry.version == version
            and servable(entry.built_at, entry.stock, stock, now=when)
        },
    )


def fragments_set(entries: dict[str, CachedFragment]) -> None:
    """Store fragments for `CATALOG_CACHE_TTL`, in one round trip; a cache that fails is logged."""
    try:
        cache.set_many(entries, timeout=int(getattr(settings, "CATALOG_CACHE_TTL", 60)))
    except CACHE_ERRORS:
        logger.warning("catalog cache: fragment write failed", exc_info=True)
