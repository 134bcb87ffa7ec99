"""`Shopapi-Signature`: the scheme payment providers' webhooks made common, so integrators reuse their code.

    Shopapi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=<…>]

During a rotation (24 h) the body is signed with the new secret and with the previous one, one
`v1` each, so a receiver still holding the old secret keeps verifying. `signature_verify` is the
reference check the README's snippets mirror (and the tests' receiver uses).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

HEADER = "Shopapi-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def secret_generate() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secrets_: Iterable[str], body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`, one `v1` per secret."""
    t = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={t}", *(f"v1={_mac(s, t, body)}" for s in secrets_ if s)])


def signature_verify(
    *,
    header: str,
    body: bytes,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether `header` signs `body` with `secret`, within `tolerance` seconds of `now`."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    t = int(timestamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = _mac(secret, t, body)
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in parts)
