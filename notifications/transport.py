"""Outbound HTTP for webhooks: one POST, a hard timeout, no redirects, no private targets.

The host is resolved once and every address it resolves to is checked: private, loopback,
link-local, multicast, reserved and unspecified addresses are refused (SSRF: an endpoint URL must
not reach the shop's own network or a cloud metadata service) unless `WEBHOOKS_ALLOW_PRIVATE=1`.
The connection then goes to the address that was checked (no second lookup a DNS rebinding could
change), with TLS verified against the URL's host name. `http.client` never follows redirects: a
3xx is an answer like any other non-2xx, and is retried.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeTarget(Exception):
    """The URL may not be called (scheme, host or address refused); the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def target_resolve(url: str, *, allow_private: bool | None = None) -> Target:
    """Check `url` and resolve its host; raises `UnsafeTarget`."""
    allow = settings.WEBHOOKS_ALLOW_PRIVATE if allow_private is None else allow_private
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget(f"bad port: {exc}") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"{parts.hostname} does not resolve ({exc})") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not allow:
        refused = [a for a in addresses if _refused(a)]
        if refused:
            raise UnsafeTarget(f"{parts.hostname} resolves to a private address ({refused[0]})")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=addresses[0])


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate for the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.address, target.port, timeout=timeout, context=ssl.create_default_context())
        self._server_hostname = target.host

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def http_post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url`; raises `UnsafeTarget`, or `OSError`/`http.client.HTTPException` on
    a network failure or timeout."""
    target = target_resolve(url)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout)
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        connection.request("POST", target.path, body=body, headers={**headers, "Host": host_header})
        response = connection.getresponse()
        text = response.read(4096).decode("utf-8", errors="replace")
        return Answer(status=response.status, body=text)
    finally:
        connection.close()
