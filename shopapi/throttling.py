"""Rate limits and the login lock-out, keyed by the real client address, failing open.

- `AddressRateThrottle` / `UserRateThrottle`: DRF throttles whose address is
  `shopapi.client_ip.client_ip` (never the raw `X-Forwarded-For`), with the rate of their `scope`
  read from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` when the request comes in.
- `GlobalRateThrottle`: one counter for everyone (e.g. "email already taken" answers).
- `login_lockout_check` / `login_failed` / `login_succeeded`: per-username backoff. After
  `LOGIN_LOCKOUT_FAILURES` failures for a username, every attempt for it waits
  `LOGIN_LOCKOUT_SECONDS`, doubling with each further failure up to `LOGIN_LOCKOUT_MAX_SECONDS`;
  a successful login forgets the failures. The API passes the account's own username when the
  caller named it by email (accounts/selectors.py `login_username`), so both count as one.

Every counter lives in the cache. When the cache is down the limits fail open (logged at WARNING):
a Redis outage must not turn logins, registrations or payments into errors.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from shopapi.client_ip import client_ip

logger = logging.getLogger(__name__)

# What a cache backend raises when its server is unreachable (redis-py; sockets for the others).
CACHE_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, OSError)
# Failures for a username are forgotten this long after the first one, locked or not.
_FAILURES_REMEMBERED_SECONDS = 24 * 3600

T = TypeVar("T")


def fail_open(what: str, call: Callable[[], T], default: T) -> T:
    """`call()`, or `default` (logged at WARNING) when the cache cannot be reached."""
    try:
        return call()
    except CACHE_ERRORS as exc:
        logger.warning("cache unavailable, %s skipped: %s: %s", what, type(exc).__name__, exc)
        return default


class RateThrottle(SimpleRateThrottle):
    """A DRF throttle on the client's real address; `scope` names its rate in the settings."""

    scope: str

    def get_rate(self) -> str | None:
        # Read per request (not frozen at import like DRF's), so `override_settings` applies.
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates[self.scope]

    def get_ident(self, request: Request) -> str:
        return client_ip(request)

    def allow_request(self, request: Request, view: APIView) -> bool:
        return fail_open(
            f"throttle {self.scope}", lambda: super(RateThrottle, self).allow_request(request, view), True
        )

    def enforce(self, request: Request, view: APIView) -> None:
        """For a limit checked inside a view: raise the 429 when it is exhausted."""
        if not self.allow_request(request, view):
            raise Throttled(wait=self.wait())


class AddressRateThrottle(RateThrottle):
    """Per client address, signed in or not."""

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(RateThrottle):
    """Per signed-in user (per client address for anonymous requests)."""

    def get_cache_key(self, request: Request, view: APIView) -> str:
        user = request.user
        ident = f"user:{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class GlobalRateThrottle(RateThrottle):
    """One counter shared by every client."""

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": "all"}


# --- login lock-out ----------------------------------------------------------------------------


def _keys(username: str) -> tuple[str, str]:
    digest = hashlib.sha256(username.casefold().encode()).hexdigest()
    return f"login_failures:{digest}", f"login_locked:{digest}"


def login_lockout_wait(username: str) -> float:
    """Seconds `username` must still wait before its password is tried again (0: not locked)."""
    if not username:
        return 0.0
    locked_until: Any = fail_open("login lock-out", lambda: cache.get(_keys(username)[1]), None)
    return max(float(locked_until or 0) - time.time(), 0.0)


def login_lockout_check(username: str) -> None:
    """429 with `Retry-After` while `username` is locked out (the password is not even tried)."""
    wait = login_lockout_wait(username)
    if wait > 0:
        raise Throttled(wait=wait, detail="Too many failed logins for this account.")


def login_failed(username: str, *, address: str) -> None:
    """Count a failed login for `username`; from the threshold on, lock it for a doubling wait."""
    if not username:
        return
    failures_key, locked_key = _keys(username)

    def record() -> int:
        cache.add(failures_key, 0, timeout=_FAILURES_REMEMBERED_SECONDS)
        return int(cache.incr(failures_key))

    failures = fail_open("login lock-out", record, 0)
    threshold = int(settings.LOGIN_LOCKOUT_FAILURES)
    if failures < threshold:
        logger.info("login failed for %r from %s (%d failures)", username, address, failures)
        return
    wait = min(
        int(settings.LOGIN_LOCKOUT_SECONDS) * 2 ** min(failures - threshold, 32),
        int(settings.LOGIN_LOCKOUT_MAX_SECONDS),
    )
    fail_open("login lock-out", lambda: cache.set(locked_key, time.time() + wait, timeout=wait), None)
    logger.warning(
        "login for %r locked for %ds after %d failures (last from %s)", username, wait, failures, address
    )


def login_succeeded(username: str) -> None:
    """Forget the failures of `username`."""
    fail_open("login lock-out", lambda: cache.delete_many(list(_keys(username))), None)
