"""HTTP layer: Stripe's /v1 routes, idempotency, faults, hosted page and /_fake controls."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fakestripe import API_VERSION, forms
from fakestripe.errors import StripeError, invalid
from fakestripe.store import Obj, Store, fault_error, new_id
from fakestripe.webhooks import Sender

Route = tuple[str, "re.Pattern[str]", str]

_ID = r"([A-Za-z0-9_]+)"
V1_ROUTES: list[Route] = [
    ("POST", re.compile(r"^/v1/checkout/sessions$"), "create_session"),
    ("GET", re.compile(r"^/v1/checkout/sessions$"), "list_sessions"),
    ("GET", re.compile(rf"^/v1/checkout/sessions/{_ID}$"), "retrieve_session"),
    ("GET", re.compile(rf"^/v1/checkout/sessions/{_ID}/line_items$"), "list_line_items"),
    ("POST", re.compile(rf"^/v1/checkout/sessions/{_ID}/expire$"), "expire_session"),
    ("GET", re.compile(rf"^/v1/payment_intents/{_ID}$"), "retrieve_payment_intent"),
    ("GET", re.compile(rf"^/v1/charges/{_ID}$"), "retrieve_charge"),
    ("POST", re.compile(r"^/v1/refunds$"), "create_refund"),
    ("GET", re.compile(rf"^/v1/refunds/{_ID}$"), "retrieve_refund"),
    ("GET", re.compile(r"^/v1/events$"), "list_events"),
    ("GET", re.compile(rf"^/v1/events/{_ID}$"), "retrieve_event"),
]


def match_route(method: str, path: str) -> tuple[str, tuple[str, ...]] | None:
    """Return ``(store operation, path ids)`` for a /v1 request, or None."""
    for route_method, pattern, op in V1_ROUTES:
        m = pattern.match(path)
        if m and route_method == method:
            return op, m.groups()
    return None


def _fmt(amount: int, currency: str | None) -> str:
    return f"{amount / 100:.2f} {(currency or '').upper()}"


def render_page(store: Store, sid: str, message: str | None = None) -> tuple[int, str]:
    """HTML for the hosted checkout page of session ``sid``."""
    with store.lock:
        try:
            session = store.retrieve_session(sid, {})
        except StripeError:
            return 404, _html("Not found", "<p>No such Checkout Session.</p>")
        lines = store.line_items.get(sid, [])
        esc = html.escape
        if session["status"] == "expired":
            return 200, _html("Expired", "<p>This Checkout Session has expired.</p>")
        if session["status"] == "complete":
            return 200, _html("Complete", "<p>This Checkout Session is already complete.</p>")
        rows = "".join(
            f"<tr><td class='name'>{esc(li['description'])}</td>"
            f"<td class='qty'>{li['quantity']}</td>"
            f"<td class='amount'>{_fmt(li['amount_total'], li['currency'])}</td></tr>"
            for li in lines
        )
        error = f"<p class='error' role='alert'>{esc(message)}</p>" if message else ""
        cancel = (
            f"<p><a class='cancel' href='{esc(session['cancel_url'])}'>Cancel</a></p>"
            if session.get("cancel_url")
            else ""
        )
        body = (
            f"{error}<table><tr><th>Item</th><th>Qty</th><th>Amount</th></tr>{rows}"
            f"<tr><td colspan='2'><b>Total</b></td>"
            f"<td class='total'><b>{_fmt(session['amount_total'], session['currency'])}</b>"
            f"</td></tr></table>"
            f"<form method='post' action='/pay/{esc(sid)}'>"
            f"<label>Card number <input name='card' value='' autocomplete='off'></label>"
            f"<button type='submit'>Pay</button></form>{cancel}"
        )
        return 200, _html("Checkout", body)


def _html(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title} - fakestripe"
        f"</title></head><body><h1>{title}</h1>{body}</body></html>"
    )


class App:
    """Holds the store and webhook sender shared by all request handler threads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sender = Sender(store)

    def v1(self, name: str, args: tuple[str, ...], params: Obj) -> Obj:
        """Call the store operation for a matched /v1 route."""
        fn: Callable[..., Obj] = getattr(self.store, name)
        if name in ("retrieve_charge", "retrieve_refund", "retrieve_event"):
            return fn(*args)
        return fn(*args, params)


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
        self.app.sender.dispatch(self.app.store.take_outbox())

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
                self._page(method, url.path[len("/pay/") :], raw)
            elif url.path.startswith("/_fake/"):
                self._control(method, url.path, url.query, raw)
            else:
                self._json(
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": None,
                            "message": f"Unrecognized request URL ({method}: {url.path}).",
                            "param": None,
                        }
                    },
                )
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

    def _v1(self, method: str, path: str, query: str, raw: bytes) -> None:
        store = self.app.store
        with store.lock:
            faults = store.faults
            if faults["fail_next"] > 0:
                faults["fail_next"] -= 1
                self._error(fault_error(int(faults["status"])))
                return
            latency = float(faults["latency_ms"]) / 1000.0
        key = self._api_key()
        if key is None:
            self._error(
                StripeError(
                    401,
                    "authentication_error",
                    "You did not provide an API key. You need to provide your API key in "
                    "the Authorization header, using Bearer auth (e.g. 'Authorization: "
                    "Bearer YOUR_SECRET_KEY').",
                )
            )
            return
        if not key.startswith("sk_test_"):
            self._error(
                StripeError(
                    401,
                    "authentication_error",
                    f"Invalid API Key provided: {key[:12]}***",
                    code="api_key_invalid" if not key.startswith("sk_live_") else None,
                )
            )
            return
        route = match_route(method, path)
        if route is None:
            self._error(invalid(f"Unrecognized request URL ({method}: {path}).", None))
            return
        op, args = route
        body_text = raw.decode("utf-8", "replace")
        params = forms.parse(body_text if method == "POST" else query)
        idem = self.headers.get("Idempotency-Key") if method == "POST" else None
        slot: Obj | None = None
        if idem:
            pairs = sorted(parse_qsl(body_text, keep_blank_values=True))
            fingerprint = hashlib.sha256(f"{method} {path}\n{pairs!r}".encode()).hexdigest()
            with store.lock:
                slot = store.idempotency.get((key, idem))
                if slot is not None:
                    if slot["state"] == "in_flight":
                        self._error(
                            StripeError(
                                409,
                                "idempotency_error",
                                "There is currently another in-progress request using this "
                                "Idempotent Key (that probably means you submitted twice, and "
                                "the other request is still going through): "
                                f"{idem}. Please try again later.",
                            )
                        )
                        return
                    if slot["fingerprint"] != fingerprint:
                        self._error(
                            StripeError(
                                400,
                                "idempotency_error",
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with. Try using a key other "
                                f"than '{idem}' if you meant to execute a different request.",
                            )
                        )
                        return
                    self._send(
                        slot["status"],
                        slot["body"].encode(),
                        headers={"Idempotent-Replayed": "true", "Original-Request": "req_fake"},
                    )
                    return
                slot = {"fingerprint": fingerprint, "state": "in_flight"}
                store.idempotency[(key, idem)] = slot
        if latency:
            time.sleep(latency)
        try:
            status, obj = 200, self.app.v1(op, args, params)
        except StripeError as err:
            status, obj = err.status, err.body()
        body = json.dumps(obj, indent=2)
        if slot is not None and idem:
            with store.lock:
                # Like Stripe, a request that failed validation (400) is not remembered.
                if status == 400:
                    store.idempotency.pop((key, idem), None)
                else:
                    slot.update(state="done", status=status, body=body)
        self._send(status, body.encode())

    # ------------------------------------------------------- hosted page
    def _page(self, method: str, sid: str, raw: bytes) -> None:
        store = self.app.store
        if method == "POST":
            card = str(forms.parse(raw.decode("utf-8", "replace")).get("card", ""))
            try:
                session = store.pay(sid, card)
            except StripeError as err:
                if err.status == 404:
                    status, page = render_page(store, sid)
                    self._send(status, page.encode(), "text/html; charset=utf-8")
                    return
                status, page = render_page(store, sid, err.message)
                self._send(status, page.encode(), "text/html; charset=utf-8")
                return
            target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)
            self._send(303, b"", "text/plain", headers={"Location": target})
            return
        status, page = render_page(store, sid)
        self._send(status, page.encode(), "text/html; charset=utf-8")

    # ------------------------------------------------------------ /_fake
    def _payload(self, raw: bytes) -> Obj:
        ctype = self.headers.get("Content-Type") or ""
        text = raw.decode("utf-8", "replace")
        if "json" in ctype or text.lstrip().startswith("{"):
            data = json.loads(text or "{}")
            if not isinstance(data, dict):
                raise invalid("Expected a JSON object", None)
            return data
        return forms.parse(text)

    def _control(self, method: str, path: str, query: str, raw: bytes) -> None:
        store = self.app.store
        try:
            try:
                payload = self._payload(raw) if method == "POST" else forms.parse(query)
            except json.JSONDecodeError as exc:
                raise invalid(f"Invalid JSON: {exc}", None) from None
            m = re.match(rf"^/_fake/checkout/sessions/{_ID}/(pay|settle)$", path)
            if method == "POST" and m:
                if m.group(2) == "pay":
                    obj = store.pay(m.group(1), str(payload.get("card", "")))
                else:
                    obj = store.settle(m.group(1), str(payload.get("outcome", "")))
                self._json(200, obj)
                return
            m = re.match(rf"^/_fake/events/{_ID}/deliver$", path)
            if method == "POST" and m:
                with store.lock:
                    if m.group(1) not in store.events_by_id:
                        raise StripeError(
                            404, "invalid_request_error", "No such event", code="resource_missing", param="id"
                        )
                    if not store.config.get("webhook_url"):
                        raise invalid("No webhook_url configured.", "webhook_url")
                self._json(200, self.app.sender.deliver_once(m.group(1), "manual"))
                return
            if method == "GET" and path == "/_fake/events":
                with store.lock:
                    data = [dict(r) for r in store.events]
                    if payload.get("type"):
                        data = [r for r in data if r["event"]["type"] == payload["type"]]
                    self._json(200, {"object": "list", "data": data})
                return
            if method == "GET" and path == "/_fake/health":
                self._json(200, {"ok": True, "base_url": store.base_url})
                return
            if method == "POST" and path == "/_fake/faults":
                with store.lock:
                    store.faults = {
                        "fail_next": int(payload.get("fail_next", 0)),
                        "status": int(payload.get("status", 500)),
                        "latency_ms": int(payload.get("latency_ms", 0)),
                    }
                    self._json(200, store.faults)
                return
            if method == "POST" and path == "/_fake/config":
                with store.lock:
                    for k in ("webhook_url", "webhook_secret", "auto_deliver"):
                        if k in payload:
                            store.config[k] = payload[k]
                    self._json(200, store.config)
                return
            if method == "POST" and path == "/_fake/clock":
                with store.lock:
                    store.clock_offset += int(payload.get("advance_seconds", 0))
                    self._json(200, {"now": store.now(), "offset": store.clock_offset})
                return
            if method == "POST" and path == "/_fake/reset":
                store.reset()
                self._json(200, {"ok": True})
                return
            raise StripeError(
                404, "invalid_request_error", f"Unrecognized fakestripe control URL ({method}: {path})."
            )
        except StripeError as err:
            self._error(err)
        except (TypeError, ValueError) as exc:
            self._error(invalid(f"Bad control request: {exc}", None))


class FakeStripeHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the shared :class:`App`."""

    daemon_threads = True
    allow_reuse_address = True
    app: App


def make_server(
    host: str,
    port: int,
    *,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    state_file: str | None = None,
) -> FakeStripeHTTPServer:
    """Bind (port 0 = any free port) and wire a server; call ``serve_forever`` on it."""
    server_cls = FakeStripeHTTPServer
    if ":" in host:

        class _V6(FakeStripeHTTPServer):
            address_family = socket.AF_INET6

        server_cls = _V6
    httpd = server_cls((host, port), Handler)
    bound_port = httpd.server_address[1]
    url_host = f"[{host}]" if ":" in host else host
    store = Store(
        f"http://{url_host}:{bound_port}",
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        state_file=state_file,
    )
    httpd.app = App(store)
    return httpd
