"""Catalog answers from the read cache (catalog/cache.py), with their HTTP caching headers.

`catalog_answer` serves a catalog GET: from a cached page when one may be served, else it runs the
view, renders the JSON once, stores it and serves it. Every 200 carries
- `ETag` (the catalog version and a digest of the bytes; weak for the gzip representation) and
  `Last-Modified` (when its rows were read); `ConditionalGetMiddleware` answers a matching
  `If-None-Match` (or `If-Modified-Since`) with a 304;
- `Cache-Control: public, max-age=CATALOG_HTTP_MAX_AGE,
  stale-while-revalidate=CATALOG_HTTP_STALE_WHILE_REVALIDATE` for a request without
  credentials; `private, no-cache` for one with an `Authorization` header (the bytes are the
  same, but a shared cache must not be told it may keep an answer to an authenticated request);
- `Vary: Accept, Accept-Encoding, Origin` (the renderer, gzip, and CORS headers differ by them);
- `X-Cache: hit | miss` when the cache was asked (tests and the bench read it).

Only requests whose every parameter is one the endpoint knows are cached (`allowed`), keyed by
the scheme, host, path and the parameters sorted: an unknown parameter can't fill the cache with
copies. Nothing user- or token-specific is ever cached: the catalog views use no authentication.

`cached_hit` answers a plain GET whose page is cached before the view stack runs (from
`shopapi.http_caching.ApiCachingMiddleware`): no session, CSRF, authentication, URL resolving or
DRF dispatch for a hit, with the same bytes and caching headers and its own 304. It only finds
pages the view stored, so whatever it does not find goes on to the view as before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import cache as catalog_cache
from catalog.filters import ProductFilter

ACCEPTS_GZIP = re.compile(r"\bgzip\b")
VARY = ("Accept", "Accept-Encoding", "Origin")
# The catalog paths (catalog/urls.py under /api/v1/) and the kind of page each stores.
PRODUCT_LIST_PATH = re.compile(r"^/api/v1/products/$")
PRODUCT_PATH = re.compile(r"^/api/v1/products/[-a-zA-Z0-9_]{1,220}/$")
CATEGORIES_PATH = re.compile(r"^/api/v1/categories/$")
# The parameters a cached catalog page may carry (any other one is answered uncached).
PAGE_PARAMETERS = frozenset({"cursor", "page_size"})
PRODUCT_LIST_PARAMETERS = PAGE_PARAMETERS | {"search", *ProductFilter.base_filters}
# `Accept` values the JSON renderer answers for certain: anything else goes to the view.
PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


def http_cache_headers(request: HttpRequest | Request, response: HttpResponseBase) -> HttpResponseBase:
    """The Cache-Control and Vary of a catalog 200 answer (errors keep the API's private default)."""
    if response.status_code != 200:
        return response
    if "HTTP_AUTHORIZATION" in request.META:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(
            response,
            public=True,
            max_age=int(getattr(settings, "CATALOG_HTTP_MAX_AGE", 5)),
            stale_while_revalidate=int(getattr(settings, "CATALOG_HTTP_STALE_WHILE_REVALIDATE", 30)),
        )
    patch_vary_headers(response, VARY)
    return response


def request_identity(request: HttpRequest | Request, allowed: Collection[str] | None) -> str | None:
    """scheme://host/path?sorted parameters, or None when a parameter is not one of `allowed`
    (None: any)."""
    params = sorted((name, value) for name, values in request.GET.lists() for value in values)
    if allowed is not None and any(name not in allowed for name, _ in params):
        return None
    return f"{request.scheme}://{request.get_host()}{request.path}?{urlencode(params)}"


def page_response(
    request: HttpRequest | Request, page: catalog_cache.CachedPage, *, state: str
) -> HttpResponse:
    """The cached page as an answer: gzip when it has one and the client accepts it."""
    gzipped = page.gzipped is not None and bool(
        ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
    )
    response = HttpResponse(page.gzipped if gzipped else page.body, content_type=page.content_type)
    if gzipped:
        response["Content-Encoding"] = "gzip"
    response["ETag"] = f"W/{page.etag}" if gzipped else page.etag
    response["Last-Modified"] = http_date(page.built_at)
    response["X-Cache"] = state
    http_cache_headers(request, response)
    return response


def catalog_answer(
    request: Request,
    *,
    kind: str,
    allowed: Collection[str],
    build: Callable[[], HttpResponseBase],
    renderer_context: Callable[[], dict[str, object]],
) -> HttpResponseBase:
    """A catalog GET through the read cache (see the module docstring)."""
    identity = request_identity(request, allowed)
    renderer = getattr(request, "accepted_renderer", None)
    if (
        identity is None
        or request.method not in ("GET", "HEAD")
        or not catalog_cache.enabled()
        or not isinstance(renderer, JSONRenderer)
        or request.accepted_media_type != renderer.media_type  # e.g. `; indent=4`: other bytes
    ):
        return http_cache_headers(request, build())
    try:
        version, stock = catalog_cache.versions()
    except catalog_cache.CACHE_ERRORS:  # the cache is down: answer from the database
        catalog_cache.logger.warning("catalog cache: versions unavailable", exc_info=True)
        return http_cache_headers(request, build())
    key = catalog_cache.page_key(version, kind, identity)
    page = catalog_cache.page_get(key, stock)
    if page is not None:
        return page_response(request, page, state="hit")
    built_at = time.time()  # before the rows are read: the page is at least this old
    response = build()
    if response.status_code != 200 or not isinstance(response, Response):
        return http_cache_headers(request, response)
    body = renderer.render(response.data, request.accepted_media_type, renderer_context())
    content_type = (
        renderer.media_type
        if renderer.charset is None
        else f"{renderer.media_type}; charset={renderer.charset}"
    )
    page = catalog_cache.page_build(body, content_type, version=version, stock=stock, built_at=built_at)
    ttl = "CATALOG_SEARCH_CACHE_TTL" if kind == "search" else "CATALOG_CACHE_TTL"
    catalog_cache.page_set(key, page, timeout=int(getattr(settings, ttl, 60)))
    return page_response(request, page, state="miss")


def _kind(request: HttpRequest) -> tuple[str, Collection[str]] | None:
    """What page a catalog path stores, and the parameters such a page may carry."""
    path = request.path_info
    if PRODUCT_LIST_PATH.match(path):
        return ("search" if "search" in request.GET else "products"), PRODUCT_LIST_PARAMETERS
    if PRODUCT_PATH.match(path):
        return "product", ()
    if CATEGORIES_PATH.match(path):
        return "categories", PAGE_PARAMETERS
    return None


def cached_hit(request: HttpRequest) -> HttpResponseBase | None:
    """The cached page of a plain catalog GET, answered before the view stack (a 304 when the
    client has it); None when there is none, and the request goes on to the view."""
    if request.method != "GET" or not catalog_cache.enabled():
        return None
    found = _kind(request)
    if found is None or request.META.get("HTTP_ACCEPT", "").strip() not in PLAIN_ACCEPT:
        return None
    kind, allowed = found
    # A parameter the endpoint does not know: `catalog_answer` never stores such a page, so
    # there is nothing to look up (no cache round trip for it).
    identity = request_identity(request, allowed)
    if identity is None:
        return None
    try:
        version, stock = catalog_cache.versions()
    except catalog_cache.CACHE_ERRORS:
        return None
    page = catalog_cache.page_get(catalog_cache.page_key(version, kind, identity), stock)
    if page is None:
        return None
    response = page_response(request, page, state="hit")
    response["Allow"] = "GET, HEAD, OPTIONS"  # as the view's answer says
    conditional = get_conditional_response(
        request, etag=response["ETag"], last_modified=int(page.built_at), response=response
    )
    return conditional if conditional is not None else response
