"""Caching of catalog reads, HTTP caching headers and response compression (catalog/cache.py,
catalog/http.py, shopapi/http_caching.py; README "Caching and CDNs").

- The application cache keeps rendered catalog pages (product list pages, product details,
  searches, categories) in Django's default cache (Redis when `REDIS_URL` is set) under the
  catalog version, which every catalog write bumps on commit: a price, name or active flag is
  never served stale. Stock shown on a cached page may lag by at most
  `CATALOG_STOCK_STALENESS_SECONDS` (0: exact).
- Anonymous catalog reads say `Cache-Control: public, max-age=…, stale-while-revalidate=…`;
  everything else under /api/ says `private, no-store`.
- Public JSON of at least `COMPRESS_MIN_BYTES` is gzipped for clients that accept it.
"""

from shopapi.settings_env import env

# The application cache of catalog reads (off: every read goes to the database).
CATALOG_CACHE_ENABLED = env.bool("CATALOG_CACHE_ENABLED", default=True)
# How long a cached catalog page lives at most (seconds); searches live shorter.
CATALOG_CACHE_TTL = env.int("CATALOG_CACHE_TTL", default=300)
CATALOG_SEARCH_CACHE_TTL = env.int("CATALOG_SEARCH_CACHE_TTL", default=60)
# Stock on a cached page may be this many seconds behind a sale or a staff change (0: exact).
CATALOG_STOCK_STALENESS_SECONDS = env.int("CATALOG_STOCK_STALENESS_SECONDS", default=5)
# HTTP caching of anonymous catalog reads by browsers and CDNs (seconds).
CATALOG_HTTP_MAX_AGE = env.int("CATALOG_HTTP_MAX_AGE", default=5)
CATALOG_HTTP_STALE_WHILE_REVALIDATE = env.int("CATALOG_HTTP_STALE_WHILE_REVALIDATE", default=30)
# gzip public JSON answers of at least this many bytes (0 switches compression off).
COMPRESS_MIN_BYTES = env.int("COMPRESS_MIN_BYTES", default=1024)
