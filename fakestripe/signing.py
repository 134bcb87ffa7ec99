"""Stripe's webhook signature: the one ``Stripe-Signature`` builder for fakestripe, tests and bench."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{payload}")>``, as Stripe builds it.

    Verifiable with ``stripe.Webhook.construct_event``; ``timestamp`` defaults to now.
    """
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
