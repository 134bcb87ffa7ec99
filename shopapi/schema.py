"""OpenAPI pieces shared by every app: the one error body and its responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from shopapi.errors import ERROR_CODES

_DESCRIPTIONS = {
    400: "Invalid input; `fields` names each offending field.",
    401: "Missing, invalid or expired credentials.",
    403: "Authenticated but not allowed.",
    404: "Not found (also for anything that belongs to another user).",
    405: "Method not allowed.",
    409: "The resource is not in a state that allows this.",
    429: "Too many requests; see the `Retry-After` header.",
    502: "The payment provider failed; retry later.",
    503: "A dependency (payment provider, database) is unavailable; retry later.",
}


class ErrorSerializer(serializers.Serializer[Any]):
    """The single error shape of every 4xx and 5xx."""

    code = serializers.ChoiceField(
        choices=ERROR_CODES,
        help_text="Stable machine-readable code, e.g. `validation_error`; every code the API answers.",
    )
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Offending input fields and their messages; empty when not about a field.",
    )


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`responses=` entries documenting the error body for the given status codes."""
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in codes}
