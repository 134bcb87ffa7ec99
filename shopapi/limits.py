"""Request body limits by endpoint kind, enforced before and while the body is read.

`BodyLimitMiddleware` (MIDDLEWARE, right after the probes) gives every `/api/` request a limit:
`WEBHOOK_MAX_BODY_BYTES` for the payment provider's webhook (its events can be large),
`API_MAX_BODY_BYTES` for every other API call. A declared `Content-Length` over the limit is a
413 `request_too_large` before a byte is read; without one (chunked), the body stream is wrapped
so reading past the limit raises `RequestTooLarge`, which DRF's exception handler (or this
middleware, for a plain Django view) answers with the same 413. Other paths (the admin's forms)
keep Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`; the probes never get here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import reverse

from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError, error_body
from shopapi.middleware import API_PREFIX, GetResponse


class RequestTooLarge(DomainError):
    status_code = 413
    default_code = ErrorCode.REQUEST_TOO_LARGE
    default_message = "The request body is too large."

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is over this endpoint's limit of {limit} bytes.")


@cache
def _webhook_path() -> str:
    return reverse("payments-webhook")


def body_limit(request: HttpRequest) -> int | None:
    """The most bytes `request` may send, or None when Django's own limit applies."""
    if not request.path_info.startswith(API_PREFIX):
        return None
    if request.path_info == _webhook_path():
        return int(settings.WEBHOOK_MAX_BODY_BYTES)
    return int(settings.API_MAX_BODY_BYTES)


class LimitedBody:
    """A request body stream that raises `RequestTooLarge` once more than `limit` bytes are read."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._read = 0

    def close(self) -> None:
        self._stream.close()

    def _count(self, chunk: bytes) -> bytes:
        self._read += len(chunk)
        if self._read > self._limit:
            raise RequestTooLarge(self._limit)
        return chunk

    def read(self, size: int | None = -1) -> bytes:
        allowed = self._limit - self._read + 1  # one byte more tells "over the limit" from "at it"
        return self._count(self._stream.read(allowed if size is None or size < 0 else min(size, allowed)))

    def readline(self, size: int | None = -1) -> bytes:
        allowed = self._limit - self._read + 1
        return self._count(self._stream.readline(allowed if size is None or size < 0 else min(size, allowed)))


def _too_large(exc: RequestTooLarge) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message), status=exc.status_code)


class BodyLimitMiddleware:
    """Refuses a declared over-limit body up front and caps reading one that declares none."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = body_limit(request)
        if limit is None:
            return self.get_response(request)
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > limit:
            return _too_large(RequestTooLarge(limit))
        request._stream = LimitedBody(request._stream, limit)  # type: ignore[assignment]  # file-like
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        """A plain Django view that read too much (DRF views answer through the exception handler)."""
        return _too_large(exception) if isinstance(exception, RequestTooLarge) else None
