"""Domain errors and the single JSON error shape for every 4xx and 5xx.

Every error body is `{"code": str, "message": str, "fields": {field: [messages]}}`:
`code` is stable and machine-readable, `message` is for people, `fields` names the
offending input fields (empty when the error is not about a field). Services raise
`DomainError` subclasses; views never build error bodies by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure of a service, turned into an error response by the handler."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.field = field
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.message)


class NotFoundError(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_message = "Not found."


class ConflictError(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_message = "The resource is not in a state that allows this."


class PaymentProviderError(DomainError):
    """Stripe failed or answered with an error we cannot pass on as the client's fault."""

    status_code: int = status.HTTP_502_BAD_GATEWAY
    default_code = "payment_provider_error"
    default_message = "The payment provider failed; nothing was charged twice. Retry later."


class PaymentProviderUnavailable(PaymentProviderError):
    """Stripe could not be reached in time (connection refused, timeout)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "payment_provider_unavailable"
    default_message = "The payment provider is unreachable; retry later."


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape."""
    return {"code": code, "message": message, "fields": fields or {}}


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
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response(error_body(exc.code, exc.message, fields), status=exc.status_code)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        return Response(
            error_body("server_error", "An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", "Invalid input.", _flatten_fields(response.data))
    else:
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request failed."
        code = exc.get_codes() if not isinstance(detail, (dict, list)) else exc.default_code
        if isinstance(detail, dict) and "detail" in detail:
            message = str(detail["detail"])
            code = getattr(detail["detail"], "code", exc.default_code)
        body = error_body(str(code), message)
    response.data = body
    return response
