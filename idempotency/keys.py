"""What a request says about idempotency: is it covered, is its key valid, whose is it, what is it.

One home for the rules the middleware (idempotency/middleware.py) and the schema hook
(idempotency/schema.py) share:

- `covered`: every POST, PATCH and DELETE under `/api/v1/` except the payment provider's webhook
  (its events are deduplicated by event id already); a new endpoint is covered without a word.
- `valid_key`: 1-255 printable ASCII characters, neither first nor last a space (HTTP strips
  those, so a key with them could never arrive as it was sent).
- `caller_scope`: the user id from a valid Bearer access token (read from the signed token: no
  database query), else a guest cart token (`X-Cart-Token`, hashed: it is a credential), else the
  client address (shopapi/client_ip.py). A key is unique per scope: two callers never collide.
- `fingerprint`: sha256 of method, path with query string, and body: the same key on another
  request is refused rather than answered with someone else's answer.

Both hashes are HMAC-SHA256 keyed with SECRET_KEY (`salted_hmac`): a body can hold a password
(login, register) and a cart token is a credential, so a plain sha256 stored in the table could be
guessed offline; a keyed one cannot without the secret.
"""

from __future__ import annotations

import re
from functools import cache

from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from shopapi.client_ip import client_ip

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
CART_TOKEN_META_KEY = "HTTP_X_CART_TOKEN"  # noqa: S105 - a header name, not a secret
API_V1_PREFIX = "/api/v1/"
WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Printable ASCII (space to tilde), not starting or ending with a space. The schema publishes it.
KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
_KEY = re.compile(KEY_PATTERN)


@cache
def _webhook_path() -> str:
    return reverse("payments-webhook")


def covered(method: str, path: str) -> bool:
    """Whether a request (method, path without the script prefix) takes an Idempotency-Key."""
    return method.upper() in WRITE_METHODS and path.startswith(API_V1_PREFIX) and path != _webhook_path()


def valid_key(value: str) -> bool:
    """1-255 printable ASCII characters, no space at either end."""
    return _KEY.fullmatch(value) is not None


def _sha256(value: bytes) -> str:
    """HMAC-SHA256 of `value` under SECRET_KEY, hex (64 characters)."""
    return salted_hmac("idempotency.keys", value, algorithm="sha256").hexdigest()


def _user_id(request: HttpRequest) -> str | None:
    """The user id claim of a valid Bearer access token, or None (no token, or not a valid one)."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0] not in jwt_settings.AUTH_HEADER_TYPES:
        return None
    try:
        token = AccessToken(parts[1])
    except TokenError:
        return None
    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    return None if user_id is None else str(user_id)


def caller_scope(request: HttpRequest) -> str:
    """Whose key it is: `user:<id>`, `cart:<sha256 of the guest cart token>` or `address:<ip>`."""
    user_id = _user_id(request)
    if user_id is not None:
        return f"user:{user_id}"
    cart_token = request.META.get(CART_TOKEN_META_KEY, "")
    if cart_token:
        return f"cart:{_sha256(cart_token.encode())}"
    return f"address:{client_ip(request)}"


def fingerprint(request: HttpRequest, body: bytes) -> str:
    """sha256 of the method, the path with its query string, and the body."""
    return _sha256(b"\n".join([(request.method or "").encode(), request.get_full_path().encode(), body]))
