"""Checkout test fixtures: fakestripe wired into settings, carts with lines, signed webhooks."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.db import connection
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order
from fakestripe import signing
from tests.factories import CartFactory, CartItemFactory, ProductFactory
from tests.stripe_fixtures import FakeStripeServer, fakestripe, fakestripe_server, stripe_client  # noqa: F401

WEBHOOK_SECRET = "whsec_checkout_tests"
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook/"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_ASYNC = "4000003800000446"

if TYPE_CHECKING:
    from rest_framework.response import _MonkeyPatchedResponse


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: SettingsWrapper) -> None:
    """Users are built by the dozen here; PBKDF2 would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def stripe_env(settings: SettingsWrapper, fakestripe: FakeStripeServer) -> FakeStripeServer:  # noqa: F811
    """The gateway talks to the (reset) fakestripe; webhooks are signed with WEBHOOK_SECRET."""
    settings.STRIPE_API_BASE = fakestripe.base_url
    settings.STRIPE_SECRET_KEY = "sk_test_checkout_tests"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_TIMEOUT_SECONDS = 5.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    fakestripe.config(webhook_secret=WEBHOOK_SECRET)
    return fakestripe


def make_cart(user: User, *, lines: int = 1, quantity: int = 1, unit_amount: int = 149_900) -> Cart:
    """An open cart of `user` with `lines` distinct products."""
    cart = CartFactory.create(user=user)
    for _ in range(lines):
        CartItemFactory.create(
            cart=cart, product=ProductFactory.create(unit_amount=unit_amount), quantity=quantity
        )
    return cart


def checkout_url(cart: Cart) -> str:
    return f"/api/v1/carts/{cart.pk}/checkout/"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header exactly as Stripe builds it (signed with WEBHOOK_SECRET by default)."""
    return signing.sign(payload, secret, timestamp)


def post_event(client: APIClient, event: dict[str, Any], **sign_kwargs: Any) -> _MonkeyPatchedResponse:
    """POST one event to the webhook with a valid signature (unless overridden)."""
    payload = json.dumps(event).encode()
    # The stubs give APIClient the `generic` of APIRequestFactory (str data, returns a Request);
    # at runtime it takes bytes and, through django.test.Client, returns the response.
    response = client.generic(
        "POST",
        WEBHOOK_PATH,
        payload,  # type: ignore[arg-type]  # bytes are sent as they are (force_bytes)
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, **sign_kwargs),
    )
    return cast("_MonkeyPatchedResponse", response)


def stripe_events(fake: FakeStripeServer, type: str) -> list[dict[str, Any]]:
    """The events fakestripe recorded of one type (full event JSON), oldest first."""
    return [record["event"] for record in fake.events(type=type)]


def session_event(fake: FakeStripeServer, type: str, session_id: str) -> dict[str, Any]:
    matching = [e for e in stripe_events(fake, type) if e["data"]["object"]["id"] == session_id]
    assert len(matching) == 1, f"expected one {type} for {session_id}, got {len(matching)}"
    return matching[0]


def run_concurrently(calls: list[Callable[..., Any]], workers: int) -> list[Any]:
    """Run the calls on real threads released together; every thread closes its DB connection.

    Each call is made without arguments (`Callable[..., Any]` so that lambdas binding a loop
    variable as a default, `lambda c=c: ...`, type-check).
    """
    barrier = threading.Barrier(min(workers, len(calls)))

    def wrapped(call: Callable[..., Any]) -> Any:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(wrapped, calls))


def order_of(cart: Cart, **filters: Any) -> Order:
    return Order.objects.get(cart=cart, **filters)
