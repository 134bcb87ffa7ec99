"""Notifications fixtures: a webhook receiver that verifies every signature, endpoints, paid orders."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Order
from notifications.models import WebhookEndpoint
from notifications.signing import HEADER, secret_generate, signature_verify
from tests.checkout.conftest import (  # noqa: F401  (fixtures)
    CARD_OK,
    _fast_password_hashing,
    checkout_url,
    make_cart,
    post_event,
    session_event,
    stripe_env,
)
from tests.stripe_fixtures import FakeStripeServer, fakestripe, fakestripe_server, stripe_client  # noqa: F401


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.body))


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers from `script` (then 200)."""

    url: str
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def verified(self) -> list[Received]:
        """Every request whose signature verifies with one of `secrets`; asserts none fails."""
        for request in self.received:
            header = request.headers.get(HEADER, "")
            assert any(signature_verify(header=header, body=request.body, secret=s) for s in self.secrets), (
                header
            )
        return self.received

    def ids(self) -> list[str]:
        return [r.json["id"] for r in self.verified()]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder["r"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.delay:
                threading.Event().wait(receiver.delay)
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            status = receiver.answer()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answer {status}".encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/shop")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder["r"], server


@pytest.fixture
def receiver(settings: SettingsWrapper) -> Iterator[Receiver]:
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    r, server = start_receiver()
    yield r
    server.shutdown()
    server.server_close()


def endpoint_for(receiver: Receiver, **fields: Any) -> WebhookEndpoint:
    secret = secret_generate()
    receiver.secrets.append(secret)
    return WebhookEndpoint.objects.create(url=receiver.url, secret=secret, **fields)


@pytest.fixture
def endpoint(receiver: Receiver) -> WebhookEndpoint:
    return endpoint_for(receiver)


def pending_order_for(user: User, client: APIClient) -> Order:
    cart = make_cart(user)
    body = client.post(checkout_url(cart)).json()
    return Order.objects.get(pk=body["order_id"])


def pay(stripe_env: FakeStripeServer, order: Order) -> dict[str, Any]:  # noqa: F811
    """Pay the order's session on fakestripe; the signed checkout.session.completed event."""
    assert stripe_env.pay(cast(str, order.provider_session_id), CARD_OK).status_code == 200
    return session_event(stripe_env, "checkout.session.completed", cast(str, order.provider_session_id))
