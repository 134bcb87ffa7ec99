"""Stock is never oversold under real concurrency (PostgreSQL, real threads, two server processes).

- 50 buyers race for the last 5 units through two gunicorn processes: exactly 5 hold them, 45 get
  409 `insufficient_stock`, on-hand never moves; when 2 of the 5 sessions expire, 2 more buyers
  get them and nobody else.
- A checkout, a staff stock adjustment and a webhook settling another order of the same variants
  race for 100 rounds: no deadlock, no error, and the ledger sums to on-hand after every round.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import requests
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from catalog.models import ProductVariant, StockReservation
from catalog.stock import ledger_mismatches, stock_adjust
from checkout.models import Cart, Order
from tests.checkout.conftest import (
    WEBHOOK_SECRET,
    checkout_url,
    order_of,
    post_event,
    run_concurrently,
    session_event,
)
from tests.checkout.stock_helpers import cart_with, sized_product
from tests.conftest import client_for
from tests.e2e.test_generated_client import _database_url
from tests.factories import UserFactory
from tests.live import LiveServer, server_env, start_gunicorn
from tests.stripe_fixtures import FakeStripeServer
from tests.throttle_rates import set_throttle_rates

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

CARD_OK = "4242424242424242"


@pytest.fixture
def two_servers(fakestripe: FakeStripeServer) -> Iterator[list[LiveServer]]:
    """Two gunicorn processes on the test database, both talking to fakestripe."""
    env = server_env(
        database_url=_database_url(),
        extra={
            "STRIPE_API_BASE": fakestripe.base_url,
            "STRIPE_SECRET_KEY": "sk_test_stock_race",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "THROTTLE_CHECKOUT": "10000/min",
            "THROTTLE_CHECKOUT_ADDRESS": "10000/min",
            "CONN_MAX_AGE": "0",
        },
    )
    servers = [start_gunicorn(env=env, workers=2, threads=8) for _ in range(2)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _checkout(server: LiveServer, user: User, cart: Cart) -> requests.Response:
    token = RefreshToken.for_user(user).access_token
    return requests.post(
        f"{server.url}{checkout_url(cart)}", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def _held(variant: ProductVariant) -> int:
    return sum(r.quantity for r in StockReservation.objects.filter(variant=variant, status="held"))


def test_fifty_buyers_for_five_units_across_two_processes(
    two_servers: list[LiveServer], stripe_env: FakeStripeServer
) -> None:
    # given: the last 5 units; 50 buyers, each with a cart of one
    _, sizes = sized_product(stock={"M": 5})
    variant = sizes["M"]
    buyers = [(user := UserFactory.create(), cart_with(user, (variant, 1))) for _ in range(50)]

    # when: all check out at once, half through each process
    responses = run_concurrently(
        [
            lambda n=n, user=user, cart=cart: _checkout(two_servers[n % 2], user, cart)
            for n, (user, cart) in enumerate(buyers)
        ],
        workers=50,
    )

    # then: exactly 5 hold a unit, 45 are told why not; on-hand is untouched
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 5 + [409] * 45, [r.text for r in responses if r.status_code not in (201, 409)]
    refused = [response.json() for response in responses if response.status_code == 409]
    assert {body["code"] for body in refused} == {"insufficient_stock"}
    assert all(list(body["fields"]) == [next(iter(body["fields"]))] for body in refused)
    holders = [
        cart for (_, cart), response in zip(buyers, responses, strict=True) if response.status_code == 201
    ]
    assert Order.objects.filter(status="pending").count() == 5
    assert _held(variant) == 5
    variant.refresh_from_db()
    assert variant.stock_on_hand == 5

    # when: 2 of the 5 sessions expire (the provider ends them; the buyers' success page confirms)
    for cart in holders[:2]:
        order = order_of(cart)
        stripe_env.client().v1.checkout.sessions.expire(cast(str, order.provider_session_id))
        confirmed = client_for(cast(User, order.user)).post(
            "/api/v1/orders/confirm/", {"session_id": order.provider_session_id}, format="json"
        )
        assert confirmed.json()["status"] == "expired"
    waiting = [
        (user, cart)
        for (user, cart), response in zip(buyers, responses, strict=True)
        if response.status_code == 409
    ]
    retries = run_concurrently(
        [
            lambda n=n, user=user, cart=cart: _checkout(two_servers[n % 2], user, cart)
            for n, (user, cart) in enumerate(waiting[:10])
        ],
        workers=10,
    )

    # then: exactly 2 more buyers get them
    assert sorted(r.status_code for r in retries) == [201] * 2 + [409] * 8
    assert Order.objects.filter(status="pending").count() == 5
    assert _held(variant) == 5
    variant.refresh_from_db()
    assert variant.stock_on_hand == 5
    assert ledger_mismatches() == []


def test_checkout_staff_adjustment_and_a_webhook_race_without_deadlock(
    stripe_env: FakeStripeServer, settings: SettingsWrapper
) -> None:
    set_throttle_rates(settings, checkout="10000/min", checkout_address="10000/min")
    # given: two tracked variants, locked by everyone in id order whatever order the lines are in
    _, sizes = sized_product(stock={"S": 1_000, "M": 1_000})
    low, high = sorted(sizes.values(), key=lambda v: v.pk)
    outcomes: list[Any] = []
    for _round in range(100):
        # a paid order holding both (its webhook not yet delivered), and another buyer's cart
        payer, buyer = UserFactory.create(), UserFactory.create()
        paid_cart = cart_with(payer, (low, 1), (high, 1))
        assert client_for(payer).post(checkout_url(paid_cart)).status_code == 201
        paid = order_of(paid_cart)
        stripe_env.pay(cast(str, paid.provider_session_id), CARD_OK)
        event = session_event(stripe_env, "checkout.session.completed", cast(str, paid.provider_session_id))
        cart = cart_with(buyer, (high, 2), (low, 1))  # lines in the other order than the ids

        # when: the three at once
        results = run_concurrently(
            [
                lambda buyer=buyer, cart=cart: client_for(buyer).post(checkout_url(cart)).status_code,
                lambda: [
                    stock_adjust(variant_id=high.pk, delta=3, actor="staff", note="delivery"),
                    stock_adjust(variant_id=low.pk, delta=-1, actor="staff", note="breakage"),
                ]
                and "adjusted",
                lambda event=event: post_event(APIClient(), event).status_code,
            ],
            workers=3,
        )
        outcomes.append(results)

        # then: every one finished, and the books balance
        assert results == [201, "adjusted", 200], results
        assert order_of(paid_cart).status == "paid"
        assert ledger_mismatches() == []

    low.refresh_from_db()
    high.refresh_from_db()
    assert (low.stock_on_hand, high.stock_on_hand) == (1_000 - 100 - 100, 1_000 - 100 + 300)
    assert len(outcomes) == 100
