"""Domain errors and the single JSON error shape for every 4xx and 5xx.

Every error body is `{"code": str, "message": str, "fields": {field: [messages]}}`:
`code` is a member of `shopapi.errors.ErrorCode` (stable, machine-readable, listed in the schema),
`message` is for people, `fields` names the offending input fields (empty when the error is not
about a field). Services raise `DomainError` subclasses; views never build error bodies by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from shopapi.errors import ErrorCode

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure of a service, turned into an error response by the handler."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    retry_after: int | None = None  # seconds, sent as `Retry-After` when set
    default_code = ErrorCode.INVALID
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: ErrorCode | None = None,
        field: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = ErrorCode(code or self.default_code)  # a ValueError for a code outside the enum
        self.field = field
        # Several fields at once (e.g. every short line of a checkout); `field` names just one.
        self.fields = fields
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.message)


class NotFoundError(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = ErrorCode.NOT_FOUND
    default_message = "Not found."


class ConflictError(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.CONFLICT
    default_message = "The resource is not in a state that allows this."


class PaymentProviderError(DomainError):
    """The payment provider failed or answered with an error that is not the client's fault."""

    status_code: int = status.HTTP_502_BAD_GATEWAY
    default_code = ErrorCode.PAYMENT_PROVIDER_ERROR
    default_message = "The payment provider failed; nothing was charged twice. Retry later."


class PaymentProviderUnavailable(PaymentProviderError):
    """The payment provider could not be reached in time (connection refused, timeout, rate limit)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE
    default_message = "The payment provider is unreachable; retry later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# SQLSTATE classes of a lost or refused connection: 08 (connection exception), 57P01-57P03 (the
# server is shutting down or starting). Other OperationalErrors (deadlock, statement timeout) are bugs
# or load, not an outage, and stay 500s.
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (rather than that a query failed)."""
    if isinstance(exc, InterfaceError):
        return True  # the connection is closed or was never opened
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)  # psycopg's; None when no server answered
    return sqlstate is None or str(sqlstate).startswith(_OUTAGE_SQLSTATES)


def outage_body_and_headers(exc: BaseException) -> tuple[dict[str, Any], dict[str, str]]:
    """The 503 answer to a database outage; logged in one line, without the traceback."""
    logger.error(
        "database unavailable: %s: %s", type(exc).__name__, (str(exc).strip().splitlines() or [""])[0]
    )
    body = error_body(ErrorCode.SERVICE_UNAVAILABLE, "The service is temporarily unavailable; retry later.")
    return body, {"Retry-After": str(settings.OUTAGE_RETRY_AFTER_SECONDS)}


def error_body(code: ErrorCode, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape."""
    return {"code": str(code), "message": message, "fields": fields or {}}


def framework_code(code: Any, status_code: int) -> ErrorCode:
    """DRF's or simplejwt's code for an error as an `ErrorCode` (a generic one if it has none)."""
    known = ErrorCode.known(str(code))
    if known is not None:
        return known
    logger.warning("error code %r is not an ErrorCode member; answered as a generic one", code)
    if status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        return ErrorCode.SERVER_ERROR
    return ErrorCode.INVALID


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested validation detail into `{"a.b": ["msg"]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(_flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error leaves in the one shape."""
    if isinstance(exc, DomainError):
        fields = exc.fields or ({exc.field: [exc.message]} if exc.field else {})
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return Response(error_body(exc.code, exc.message, fields), status=exc.status_code, headers=headers)
    if database_unavailable(exc):
        body, headers = outage_body_and_headers(exc)
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        return Response(
            error_body(ErrorCode.SERVER_ERROR, "An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(ErrorCode.VALIDATION_ERROR, "Invalid input.", _flatten_fields(response.data))
    else:
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request failed."
        code = exc.get_codes() if not isinstance(detail, (dict, list)) else exc.default_code
        if isinstance(detail, dict) and "detail" in detail:
            message = str(detail["detail"])
            code = getattr(detail["detail"], "code", exc.default_code)
        body = error_body(framework_code(code, response.status_code), message)
    response.data = body
    return response
