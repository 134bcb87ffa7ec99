"""OpenAPI: the `Idempotency-Key` header and its answers on every write operation the middleware covers.

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) rather than
an `@extend_schema` per view: the operations that get the header are chosen by the same rule as the
requests the middleware handles (idempotency/keys.py `covered`), so the schema and the behaviour
cannot drift, and a new endpoint is documented as soon as it exists. To each covered operation it
adds the optional header, and the 400, 409 and 422 answers it can cause (appended to the
description of a 400 or 409 the view documents already).
"""

from __future__ import annotations

from typing import Any

from idempotency import keys
from idempotency.middleware import IN_PROGRESS_RETRY_AFTER_SECONDS
from shopapi.errors import ErrorCode

ERROR_REF = "#/components/schemas/Error"
# The keys drf-spectacular writes after an operation's `parameters`.
_AFTER_PARAMETERS = ("tags", "requestBody", "security", "responses")

PARAMETER_DESCRIPTION = (
    "Makes the request safe to retry: 1-255 printable ASCII characters, unique per request (a UUID "
    "is a good key). The first completed answer (status, body, the headers that matter) is kept "
    "for 24 hours per caller and key; sending the same request with the same key again returns "
    "that answer byte for byte, with `Idempotent-Replayed: true`, without running it again. "
    "5xx answers are not kept: a retry runs again."
)

_ANSWERS = {
    "400": (
        f"`{ErrorCode.INVALID_IDEMPOTENCY_KEY}`: the `{keys.HEADER}` header is not 1-255 printable "
        "ASCII characters."
    ),
    "409": (
        f"`{ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS}`: a request with this `{keys.HEADER}` is still "
        f"running; retry after `Retry-After` ({IN_PROGRESS_RETRY_AFTER_SECONDS} s)."
    ),
    "422": (
        f"`{ErrorCode.IDEMPOTENCY_KEY_REUSED}`: this `{keys.HEADER}` was used for another request "
        "(method, path or body)."
    ),
}


def parameter() -> dict[str, Any]:
    return {
        "in": "header",
        "name": keys.HEADER,
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": keys.MAX_KEY_LENGTH,
            "pattern": keys.KEY_PATTERN,
        },
        "description": PARAMETER_DESCRIPTION,
    }


def _with_parameter(operation: dict[str, Any]) -> dict[str, Any]:
    """`operation` with the header appended to its parameters (placed where drf-spectacular puts them)."""
    if "parameters" in operation:
        return {**operation, "parameters": [*operation["parameters"], parameter()]}
    out: dict[str, Any] = {}
    for name, value in operation.items():
        if name in _AFTER_PARAMETERS and "parameters" not in out:
            out["parameters"] = [parameter()]
        out[name] = value
    out.setdefault("parameters", [parameter()])
    return out


def _document(operation: dict[str, Any]) -> dict[str, Any]:
    operation = _with_parameter(operation)
    responses = operation.setdefault("responses", {})
    for status, description in _ANSWERS.items():
        existing = responses.get(status)
        if existing is None:
            responses[status] = {
                "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                "description": description,
            }
        else:
            existing["description"] = f"{existing.get('description', '')} Or {description}".strip()
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def document_idempotency_key(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the header on every covered operation."""
    for path, operations in result.get("paths", {}).items():
        for method in list(operations):
            if keys.covered(method, path):
                operations[method] = _document(operations[method])
    return result
