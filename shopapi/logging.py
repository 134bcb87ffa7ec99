"""Structured logs: a stdlib JSON formatter and the request id carried onto every record.

`request_id_var` holds the id of the request being served (set by
`shopapi.middleware.RequestIdMiddleware`); `RequestIdFilter`, installed on the console
handler, copies it onto every record so any logger (``shopapi.payments`` included) is
traceable to its request. `JsonFormatter` writes one JSON object per line with the
record's ``extra=`` fields; it never writes the Django request object Django attaches to
its own records (its repr carries the query string), and masks extra fields whose name
says they hold a secret.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord carries; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}
# Django puts the HttpRequest (or a socket) on its records: never serialise it.
_DROPPED_EXTRAS = frozenset({"request"})
_SECRET_NAME = re.compile(r"password|passwd|secret|token|authorization|api_key|card|cvc", re.IGNORECASE)
REDACTED = "[redacted]"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key in _RECORD_ATTRS or key in _DROPPED_EXTRAS or key.startswith("_"):
                continue
            payload[key] = REDACTED if _SECRET_NAME.search(key) else value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)
