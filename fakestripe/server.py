"""HTTP layer: Stripe's /v1 routes (auth, faults, idempotency), dispatch to the hosted page and /_fake.

The resources live in their own modules (``sessions``, ``payments``, ``refunds``, ``events``);
this module only routes, authenticates and writes answers.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from fakestripe import API_VERSION, forms
from fakestripe.controls import control_answer
from fakestripe.errors import StripeError, invalid
from fakestripe.events import event_list, event_retrieve, event_take_outbox
from fakestripe.faults import faults_take
from fakestripe.idempotency import (
    REPLAY_HEADERS,
    idempotency_complete,
    idempotency_reserve,
    request_fingerprint,
)
from fakestripe.page import page_answer
from fakestripe.payments import charge_retrieve, payment_intent_retrieve
from fakestripe.refunds import refund_create, refund_list, refund_retrieve
from fakestripe.sessions import (
    session_create,
    session_expire,
    session_line_items,
    session_list,
    session_retrieve,
)
from fakestripe.shipping import shipping_rate_retrieve
from fakestripe.store import Obj, Store, new_id
from fakestripe.sweep import Sweeper
from fakestripe.webhooks import Sender

# An operation is called as ``op(store, *path_ids, params)``.
Operation = Callable[..., Obj]
Route = tuple[str, "re.Pattern[str]", Operation]

_ID = r"([A-Za-z0-9_]+)"
V1_ROUTES: list[Route] = [
    ("POST", re.compile(r"^/v1/checkout/sessions$"), session_create),
    ("GET", re.compile(r"^/v1/checkout/sessions$"), session_list),
    ("GET", re.compile(rf"^/v1/checkout/sessions/{_ID}$"), session_retrieve),
    ("GET", re.compile(rf"^/v1/checkout/sessions/{_ID}/line_items$"), session_line_items),
    ("POST", re.compile(rf"^/v1/checkout/sessions/{_ID}/expire$"), session_expire),
    ("GET", re.compile(rf"^/v1/payment_intents/{_ID}$"), payment_intent_retrieve),
    ("GET", re.compile(rf"^/v1/charges/{_ID}$"), charge_retrieve),
    ("POST", re.compile(r"^/v1/refunds$"), refund_create),
    ("GET", re.compile(r"^/v1/refunds$"), refund_list),
    ("GET", re.compile(rf"^/v1/refunds/{_ID}$"), refund_retrieve),
    ("GET", re.compile(r"^/v1/events$"), event_list),
    ("GET", re.compile(rf"^/v1/events/{_ID}$"), event_retrieve),
    ("GET", re.compile(rf"^/v1/shipping_rates/{_ID}$"), shipping_rate_retrieve),
]


def match_route(method: str, path: str) -> tuple[Operation, tuple[str, ...]] | None:
    """Return ``(operation, path ids)`` for a /v1 request, or None."""
    for route_method, pattern, op in V1_ROUTES:
        m = pattern.match(path)
        if m and route_method == method:
            return op, m.groups()
    return None


class App:
    """Holds the store and webhook sender shared by all request handler threads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sender = Sender(store)
        self.sweeper = Sweeper(store, self.sender)


class Handler(BaseHTTPRequestHandler):
    """Request handler; one instance per request, on its own thread."""

    server: FakeStripeHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms a call). Stripe answers in one round trip, so must the stand-in.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the server is not meant to be watched."""

    # ------------------------------------------------------------ plumbing
    @property
    def app(self) -> App:
        """The shared store and sender."""
        return self.server.app

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", new_id("req_", 14))
        self.send_header("Stripe-Version", API_VERSION)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, indent=2).encode(), headers=headers)

    def _error(self, err: StripeError) -> None:
        self._json(err.status, err.body())

    def _after(self) -> None:
        """Post-response work: persist and hand new events to the webhook sender."""
        self.app.store.save()
        self.app.sender.dispatch(event_take_outbox(self.app.store))

    def do_GET(self) -> None:
        """Dispatch GET."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Dispatch POST."""
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        """Dispatch DELETE (nothing supported; answers Stripe's unrecognized URL)."""
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        try:
            if url.path.startswith("/v1/"):
                self._v1(method, url.path, url.query, raw)
            elif url.path.startswith("/pay/"):
                status, body, content_type, headers = page_answer(
                    self.app.store, method, url.path[len("/pay/") :], raw
                )
                self._send(status, body, content_type, headers=headers)
            elif url.path.startswith("/_fake/"):
                self._control(method, url.path, url.query, raw)
            else:
                msg = f"Unrecognized request URL ({method}: {url.path})."
                self._error(StripeError(404, "invalid_request_error", msg))
        except Exception as exc:  # noqa: BLE001 - answer like Stripe's 500, keep serving
            self._error(StripeError(500, "api_error", f"fakestripe internal error: {exc!r}"))
        finally:
            self._after()

    # ------------------------------------------------------------------ /v1
    def _api_key(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            return auth[len("Bearer ") :].strip() or None
        if auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                return None
            return user or None
        return None

    def _authenticate(self) -> str:
        """The caller's test-mode API key, or the 401 Stripe answers."""
        key = self._api_key()
        if key is None:
            raise StripeError(
                401,
                "authentication_error",
                "You did not provide an API key. You need to provide your API key in "
                "the Authorization header, using Bearer auth (e.g. 'Authorization: "
                "Bearer YOUR_SECRET_KEY').",
            )
        if not key.startswith("sk_test_"):
            raise StripeError(
                401,
                "authentication_error",
                f"Invalid API Key provided: {key[:12]}***",
                code="api_key_invalid" if not key.startswith("sk_live_") else None,
            )
        return key

    def _v1(self, method: str, path: str, query: str, raw: bytes) -> None:
        """Faults, then auth, routing and idempotency, then the operation."""
        store = self.app.store
        try:
            latency = faults_take(store, "edge")
            key = self._authenticate()
            route = match_route(method, path)
            if route is None:
                raise invalid(f"Unrecognized request URL ({method}: {path}).", None)
            op, args = route
            body_text = raw.decode("utf-8", "replace")
            params = forms.parse(body_text if method == "POST" else query)
            idem = self.headers.get("Idempotency-Key") if method == "POST" else None
            slot: Obj | None = None
            if idem:
                fingerprint = request_fingerprint(method, path, body_text)
                slot = idempotency_reserve(store, key, idem, fingerprint)
                if slot["state"] == "done":
                    self._send(slot["status"], slot["body"].encode(), headers=REPLAY_HEADERS)
                    return
        except StripeError as err:
            self._error(err)
            return
        if latency:
            time.sleep(latency)
        try:
            faults_take(store, "execution")
            status, obj = 200, op(store, *args, params)
        except StripeError as err:
            status, obj = err.status, err.body()
        except Exception as exc:  # noqa: BLE001 - a 500 is saved under the key like any answer
            status, obj = 500, StripeError(500, "api_error", f"fakestripe internal error: {exc!r}").body()
        body = json.dumps(obj, indent=2)
        if slot is not None and idem:
            idempotency_complete(store, key, idem, slot, status, body)
        self._send(status, body.encode())

    # ------------------------------------------------------------ /_fake
    def _control(self, method: str, path: str, query: str, raw: bytes) -> None:
        try:
            obj = control_answer(
                self.app.store,
                self.app.sender,
                method,
                path,
                query,
                raw,
                self.headers.get("Content-Type") or "",
            )
        except StripeError as err:
            self._error(err)
        except (TypeError, ValueError) as exc:
            self._error(invalid(f"Bad control request: {exc}", None))
        else:
            self._json(200, obj)


class FakeStripeHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the shared :class:`App`."""

    daemon_threads = True
    allow_reuse_address = True
    app: App

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve, with the expiry sweep running alongside until ``shutdown``."""
        self.app.sweeper.start()
        try:
            super().serve_forever(poll_interval)
        finally:
            self.app.sweeper.stop()

    def server_close(self) -> None:
        """Stop the sweep (if ``serve_forever`` never ran it) and close the socket."""
        self.app.sweeper.stop()
        super().server_close()


def make_server(
    host: str,
    port: int,
    *,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    public_url: str | None = None,
    state_file: str | None = None,
    settlement_currency: str = "usd",
) -> FakeStripeHTTPServer:
    """Bind (port 0 = any free port) and wire a server; call ``serve_forever`` on it.

    ``public_url`` is the base of the URLs handed to browsers (a session's hosted page), when they
    reach the server by another name than the bound address (a phone on the LAN).
    """
    server_cls = FakeStripeHTTPServer
    if ":" in host:

        class _V6(FakeStripeHTTPServer):
            address_family = socket.AF_INET6

        server_cls = _V6
    httpd = server_cls((host, port), Handler)
    bound_port = httpd.server_address[1]
    url_host = f"[{host}]" if ":" in host else host
    store = Store(
        public_url.rstrip("/") if public_url else f"http://{url_host}:{bound_port}",
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        state_file=state_file,
        settlement_currency=settlement_currency,
    )
    httpd.app = App(store)
    return httpd
