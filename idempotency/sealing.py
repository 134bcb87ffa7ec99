"""Stored answers are sealed: a replayable answer can hold secrets (register and login answer JWTs).

The body kept for a replay is encrypted with AES-GCM under a key derived from `SECRET_KEY`, the
caller's scope and the Idempotency-Key itself (HMAC-SHA256), so a copy of the table (a backup, a
read replica, a support query) reveals no token: opening a row needs both the server's secret and
the client's key, which is only ever sent by the client that made the request. The scope and key
are also the authenticated data, so a sealed body moved to another row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_NONCE_BYTES = 12


class SealBroken(Exception):
    """The stored answer does not open (SECRET_KEY rotated, or the row was tampered with)."""


def _key(scope: str, key: str) -> bytes:
    material = f"idempotency-answer\0{scope}\0{key}".encode()
    return hmac.new(str(settings.SECRET_KEY).encode(), material, hashlib.sha256).digest()


def seal(*, scope: str, key: str, body: bytes) -> bytes:
    """`body` encrypted for this scope and key: nonce + ciphertext (with its tag)."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(_key(scope, key)).encrypt(nonce, body, f"{scope}\0{key}".encode())


def unseal(*, scope: str, key: str, sealed: bytes) -> bytes:
    """The stored body; `SealBroken` when it can't be opened with this scope and key."""
    nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        return AESGCM(_key(scope, key)).decrypt(nonce, ciphertext, f"{scope}\0{key}".encode())
    except (InvalidTag, ValueError) as exc:
        raise SealBroken(str(exc) or "the stored answer does not open") from exc
