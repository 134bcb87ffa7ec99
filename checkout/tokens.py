"""Guest credentials: the cart token and the order token, and how each is stored (hashed, only).

- **Cart token**: `secrets.token_urlsafe(32)`, 256 random bits, made when a guest opens a cart and
  shown once, in that answer. The cart keeps only its sha256 (`Cart.token_hash`); a request's
  `X-Cart-Token` is hashed and looked up by that hash. A guest who loses it loses the cart (as
  with a cookie); it cannot be shown again because it is not stored.
- **Order token**: a guest order is read and cancelled with `X-Order-Token`. It must be shown by
  the checkout answer (201, and again by a repeated checkout answering 200 with the same session)
  and by confirm (which a guest calls with the session id alone), yet be stored only hashed. So it
  is derived, not stored: `order_token = urlsafe_b64(HMAC-SHA256(SECRET_KEY, b"order-token:" +
  order_id))` (unpadded, 43 characters, 256 bits), and the order keeps `sha256(order_token)` in
  `Order.token_hash`. Whoever holds the order id alone cannot compute it without SECRET_KEY.
- **Verification** never re-derives: what the client sends is hashed and compared with the stored
  hash (a database lookup by hash, and `hmac.compare_digest` where two values are compared in
  Python). So a token handed out before a SECRET_KEY rotation keeps working. Showing the token
  again (`order_token_for`) derives it with SECRET_KEY, then with each of SECRET_KEY_FALLBACKS,
  and returns the one whose hash is stored; after a rotation without the old key in the fallbacks,
  it returns None (the guest still has the token from the checkout answer).

sha256 without a key is enough for storage: the tokens carry 256 random (or HMAC-derived) bits,
so a leaked table cannot be turned back into tokens by guessing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings

if TYPE_CHECKING:
    from checkout.models import Order

CART_TOKEN_BYTES = 32
# Headers longer than this are no token of ours (ours are 43 characters): ignored, never hashed.
MAX_TOKEN_LENGTH = 128
_ORDER_TOKEN_CONTEXT = b"order-token:"


def token_hash(token: str) -> str:
    """sha256 of a token, hex (64 characters): what is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def header_token_hash(value: str | None) -> str | None:
    """The hash of a token sent in a header, or None when there is none (empty or too long)."""
    value = (value or "").strip()
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return token_hash(value)


def cart_token_new() -> tuple[str, str]:
    """A new guest cart token and its hash: (token to show once, hash to store)."""
    token = secrets.token_urlsafe(CART_TOKEN_BYTES)
    return token, token_hash(token)


def _derive(order_id: UUID | str, key: str) -> str:
    digest = hmac.new(key.encode(), _ORDER_TOKEN_CONTEXT + str(order_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def order_token_derive(order_id: UUID | str) -> str:
    """The order token of a (new) guest order, under the current SECRET_KEY."""
    return _derive(order_id, str(settings.SECRET_KEY))


def order_token_hash(order_id: UUID | str) -> str:
    """What a new guest order stores: the sha256 of its order token."""
    return token_hash(order_token_derive(order_id))


def token_matches(token: str, stored_hash: str) -> bool:
    """Whether `token` is the one whose hash is stored (constant-time comparison)."""
    return hmac.compare_digest(token_hash(token), stored_hash)


def order_token_for(order: Order) -> str | None:
    """The guest order's token to show its holder again; None for a user's order (see above)."""
    return order_token_shown(order.pk, order.token_hash)


def order_token_shown(order_id: UUID | str, stored_hash: str | None) -> str | None:
    """`order_token_for` from the order's id and stored `token_hash` (for reads without an instance)."""
    if not stored_hash:
        return None
    keys = [str(settings.SECRET_KEY), *(str(key) for key in getattr(settings, "SECRET_KEY_FALLBACKS", []))]
    for key in keys:
        token = _derive(order_id, key)
        if token_matches(token, stored_hash):
            return token
    return None
