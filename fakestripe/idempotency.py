"""Idempotency keys on /v1 POSTs: replay the stored answer, refuse other params or a second runner.

Follows https://docs.stripe.com/api/idempotent_requests: keys are at most 255 characters; the
status and body are saved once the endpoint begins executing, whatever they are (500s included),
and a request that fails validation (400) saves nothing; keys are pruned once they are 24 hours
old, so the same key is then a new request. Age is measured on fakestripe's clock
(``POST /_fake/clock`` moves it). Keys are scoped to the API key.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl

from fakestripe.errors import StripeError
from fakestripe.store import Obj, Store

REPLAY_HEADERS = {"Idempotent-Replayed": "true", "Original-Request": "req_fake"}
MAX_KEY_LENGTH = 255
KEY_TTL = 24 * 60 * 60  # seconds of fakestripe's clock


def request_fingerprint(method: str, path: str, body: str) -> str:
    """What makes two requests "the same parameters": method, path and sorted form pairs."""
    pairs = sorted(parse_qsl(body, keep_blank_values=True))
    return hashlib.sha256(f"{method} {path}\n{pairs!r}".encode()).hexdigest()


def idempotency_reserve(store: Store, api_key: str, key: str, fingerprint: str) -> Obj:
    """The key's slot: a new ``in_flight`` one to run the request, or a ``done`` one to replay.

    Raises 400 for a key over 255 characters, 409 while the first request with this key still
    runs, 400 if the params differ.
    """
    if len(key) > MAX_KEY_LENGTH:
        raise StripeError(
            400,
            "invalid_request_error",
            f"Invalid idempotency key: must be at most {MAX_KEY_LENGTH} characters long; "
            f"yours is {len(key)} characters.",
        )
    with store.lock:
        now = store.clock.now()
        slot = store.idempotency.get((api_key, key))
        if slot is not None and slot["state"] == "done" and now - slot.get("created", now) >= KEY_TTL:
            slot = None  # pruned after 24 hours: a new request
        if slot is None:
            slot = {"fingerprint": fingerprint, "state": "in_flight", "created": now}
            store.idempotency[(api_key, key)] = slot
            return slot
        if slot["state"] == "in_flight":
            raise StripeError(
                409,
                "idempotency_error",
                "There is currently another in-progress request using this "
                "Idempotent Key (that probably means you submitted twice, and "
                "the other request is still going through): "
                f"{key}. Please try again later.",
            )
        if slot["fingerprint"] != fingerprint:
            raise StripeError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other "
                f"than '{key}' if you meant to execute a different request.",
            )
        return slot


def idempotency_complete(store: Store, api_key: str, key: str, slot: Obj, status: int, body: str) -> None:
    """Store the answer in the reserved ``slot`` (a 400 frees the key instead)."""
    with store.lock:
        # Like Stripe, a request that failed validation (400) is not remembered.
        if status == 400:
            store.idempotency.pop((api_key, key), None)
        else:
            slot.update(state="done", status=status, body=body)
