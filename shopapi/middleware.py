"""Request id, access log and platform probes, outermost in MIDDLEWARE.

`RequestIdMiddleware` takes the caller's ``X-Request-ID`` when it is 1-64 characters of
``[A-Za-z0-9._-]`` (else generates a uuid4 hex), exposes it to every logger through
`shopapi.logging.request_id_var`, returns it in the ``X-Request-ID`` response header and
writes one ``shopapi.request`` line per request: method, path (never the query string),
status, duration_ms, request_id and user_id when authenticated. Headers and bodies are
never logged.

`JsonHostMiddleware` validates the Host header first thing after the probes, so a disallowed host
is a JSON 400 `invalid_host` rather than Django's HTML page. `ApiSlashMiddleware` serves an
`/api/` path written without its trailing slash as the slashed one, so the method and body
survive (CommonMiddleware's APPEND_SLASH would answer an HTML 301 that turns a POST into a GET).

`ProbeMiddleware` answers ``GET /healthz`` and ``GET /readyz`` before host validation, SSL
redirect and sessions: load balancers and the image's HEALTHCHECK call them by IP over
plain HTTP, with a Host header that is not in ALLOWED_HOSTS.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import is_valid_path, resolve
from django.utils.functional import LazyObject, empty

from shopapi.errors import ErrorCode
from shopapi.exceptions import error_body
from shopapi.logging import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
API_PREFIX = "/api/"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

access_logger = logging.getLogger("shopapi.request")
# Where Django itself reports a disallowed Host.
host_logger = logging.getLogger("django.security.DisallowedHost")

GetResponse = Callable[[HttpRequest], HttpResponseBase]


def request_id_from(request: HttpRequest) -> str:
    """The caller's X-Request-ID when it is safe to log and echo, else a fresh uuid4 hex."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _user_id(request: HttpRequest) -> Any:
    """The authenticated user's id, without ever triggering a session or database lookup."""
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject):
        wrapped = user._wrapped  # type: ignore[attr-defined]  # evaluated by the view, or not at all
        if wrapped is empty:
            return None
        user = wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class RequestIdMiddleware:
    """Binds the request id for the request's lifetime and logs one access line."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_from(request)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            status = response.status_code
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            access_logger.log(
                level,
                "%s %s %s %.2fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class ProbeMiddleware:
    """Serves the liveness/readiness views directly, whatever the Host header or scheme."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "GET" and request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            response = match.func(request, *match.args, **match.kwargs)
            render = getattr(response, "render", None)
            if callable(render):  # a DRF Response is rendered by the handler we bypass
                render()
            return response
        return self.get_response(request)


class JsonHostMiddleware:
    """A Host header outside ALLOWED_HOSTS is a JSON 400 in the error shape, before any view."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            request.get_host()
        except DisallowedHost as exc:
            host_logger.warning("%s", exc)
            return JsonResponse(error_body(ErrorCode.INVALID_HOST, "Invalid Host header."), status=400)
        return self.get_response(request)


class ApiSlashMiddleware:
    """`POST /api/v1/carts` is served as `POST /api/v1/carts/`: no redirect, nothing lost."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
                request.path_info = f"{path}/"
                request.path = f"{request.path}/"
        return self.get_response(request)
