"""Stripe-shaped API errors raised by the store and rendered by the HTTP layer."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error answered as ``{"error": {type, message[, code][, param], ...}}``."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> dict[str, Any]:
        """Return the JSON body Stripe would answer with."""
        # Like Stripe, ``code`` and ``param`` are left out (not null) when they do not apply.
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            err["code"] = self.code
        if self.param is not None:
            err["param"] = self.param
        if self.decline_code is not None:
            err["decline_code"] = self.decline_code
        if self.code:
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """400 ``invalid_request_error``."""
    return StripeError(400, "invalid_request_error", message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    """400 for a required parameter that was not sent."""
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def no_such(kind: str, obj_id: str, param: str = "id") -> StripeError:
    """404 ``resource_missing``."""
    return StripeError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{obj_id}'",
        code="resource_missing",
        param=param,
    )
