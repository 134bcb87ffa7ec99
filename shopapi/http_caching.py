"""HTTP caching defaults and compression for the API (settings: shopapi/settings_cache.py).

`ApiCachingMiddleware`, placed just outside `ConditionalGetMiddleware`:
- a catalog GET whose page is cached is answered at once (`catalog.http.cached_hit`), without
  the rest of the middleware and the view;
- an API answer (`/api/…`) that says nothing about caching gets `Cache-Control: private,
  no-store`: carts, orders, accounts and tokens are never kept by a browser's disk cache, a
  proxy or a CDN. Only the catalog says otherwise (catalog/http.py: `public` for anonymous reads).
- a `public` JSON answer of at least `COMPRESS_MIN_BYTES` is gzipped when the client accepts it
  (the catalog's cached pages come already gzipped, made once per page: catalog/cache.py).

Why only `public` answers are compressed (BREACH): compression leaks, through the size of the
answer, whether attacker-chosen text in a request matches a secret in the same answer. A public
answer carries no secret (it is the same for everyone, no token, no user data), so there is
nothing to leak. A private answer may carry a token next to text the request chose (a login's
JWTs, a cart's token), so it is sent uncompressed: carts and orders of many lines are larger on
the wire, but never an oracle. Put no compressing proxy in front that undoes this (README).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers

ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _public(response: HttpResponseBase) -> bool:
    control = response.get("Cache-Control", "")
    return "public" in [part.strip().lower() for part in control.split(",")]


class ApiCachingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            from catalog.http import cached_hit  # the catalog's cached pages: no view stack for a hit

            hit = cached_hit(request)
            if hit is not None:
                return hit
        response = self.get_response(request)
        if not request.path.startswith("/api/"):
            return response
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
            return response
        if _public(response):
            self._compress(request, response)
        return response

    @staticmethod
    def _compress(request: HttpRequest, response: HttpResponseBase) -> None:
        min_bytes = int(getattr(settings, "COMPRESS_MIN_BYTES", 1024))
        if (
            not min_bytes
            or response.streaming
            or response.has_header("Content-Encoding")
            or not response.get("Content-Type", "").startswith("application/json")
        ):
            return
        content: bytes = response.content  # type: ignore[attr-defined]
        if len(content) < min_bytes:
            return
        patch_vary_headers(response, ("Accept-Encoding",))
        if not ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return
        response.content = gzip.compress(content, compresslevel=6, mtime=0)  # type: ignore[attr-defined]
        response["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        response["Content-Encoding"] = "gzip"
        etag = response.get("ETag")
        if etag and not etag.startswith("W/"):
            response["ETag"] = f"W/{etag}"  # another representation of the same bytes
