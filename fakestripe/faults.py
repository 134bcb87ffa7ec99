"""Injected faults (``POST /_fake/faults``): fail the next N /v1 requests, or slow every one down.

``stage`` says where a ``fail_next`` fault strikes: ``edge`` (default) before auth and idempotency,
so nothing is remembered and a retry with the same key runs; ``execution`` once the endpoint
began executing, so the error is saved under the idempotency key and replayed, as Stripe does.
"""

from __future__ import annotations

from fakestripe.errors import StripeError
from fakestripe.store import Obj, Store


def fault_error(status: int) -> StripeError:
    """The Stripe-shaped error answered for an injected fault."""
    if status == 429:
        return StripeError(
            429,
            "invalid_request_error",
            "Too many requests hit the API too quickly (fakestripe injected fault).",
            code="rate_limit",
        )
    return StripeError(
        status,
        "api_error",
        "An unknown error occurred (fakestripe injected fault).",
    )


STAGES = ("edge", "execution")


def faults_set(store: Store, payload: Obj) -> Obj:
    """Replace all faults with ``fail_next`` / ``status`` / ``latency_ms`` / ``stage`` (defaults: none)."""
    stage = str(payload.get("stage", "edge"))
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}")
    with store.lock:
        store.faults = {
            "fail_next": int(payload.get("fail_next", 0)),
            "status": int(payload.get("status", 500)),
            "latency_ms": int(payload.get("latency_ms", 0)),
            "stage": stage,
        }
        return dict(store.faults)


def faults_take(store: Store, stage: str = "edge") -> float:
    """Called by every /v1 request at each ``stage``: raise its fault, else its latency (s)."""
    with store.lock:
        faults = store.faults
        if faults["fail_next"] > 0 and faults.get("stage", "edge") == stage:
            faults["fail_next"] -= 1
            raise fault_error(int(faults["status"]))
        return float(faults["latency_ms"]) / 1000.0
