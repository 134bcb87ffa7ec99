"""The client's address: the one answer every throttle, lock-out and log line uses.

`X-Forwarded-For` is believed only as far as it was written by a trusted proxy. The trusted
proxies are `settings.TRUSTED_PROXIES`, read from `FORWARDED_ALLOW_IPS`, the same variable (and
the same default, `127.0.0.1,::1`) gunicorn uses to decide whose `X-Forwarded-Proto` it believes,
so the two can never disagree. Each proxy appends the address it received the request from, so:

- `REMOTE_ADDR` is not a trusted proxy → the client is `REMOTE_ADDR` (the header is the client's own
  words and is ignored);
- `REMOTE_ADDR` is a trusted proxy → the client is the right-most address of `X-Forwarded-For` that
  is not a trusted proxy (everything left of it was written by the client and is ignored).

`*` trusts the peer whoever it is (the platform's proxy is the only thing that can reach the
container) but no address inside the header: the client is then the right-most entry.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[bool, frozenset[IPAddress]]:
    """(trust any peer, the trusted addresses) from the setting's entries."""
    addresses: set[IPAddress] = set()
    for entry in entries:
        if entry == "*":
            return True, frozenset()
        try:
            addresses.add(ipaddress.ip_address(entry))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or '*'."
            ) from exc
    return False, frozenset(addresses)


def _address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request, as far as a trusted proxy vouches for it."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    any_peer, proxies = _trusted(tuple(entry.strip() for entry in settings.TRUSTED_PROXIES if entry.strip()))
    peer = _address(remote)
    if peer is None or not (any_peer or peer in proxies):
        return remote
    forwarded = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    client = remote
    for hop in reversed([hop for hop in forwarded if hop]):
        address = _address(hop)
        if address is None:
            break  # a trusted proxy passed on garbage: the last vouched-for hop is all we know
        client = str(address)
        if any_peer or address not in proxies:
            break
    return client
