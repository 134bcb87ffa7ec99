"""Exactly-once fulfilment under real concurrency: confirms, webhook replays, end-to-end delivery."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent
from payments.models import ProviderEvent
from tests.checkout.conftest import (
    CARD_OK,
    WEBHOOK_PATH,
    checkout_url,
    make_cart,
    post_event,
    run_concurrently,
    session_event,
)
from tests.conftest import client_for
from tests.stripe_fixtures import FakeStripeServer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_fifty_confirms_and_ten_webhooks_transition_once(stripe_env: FakeStripeServer, user: User) -> None:
    # given: paid at Stripe, the webhook held back
    cart = make_cart(user)
    order_id = client_for(user).post(checkout_url(cart)).json()["order_id"]
    order = Order.objects.get(pk=order_id)
    stripe_env.pay(cast(str, order.provider_session_id), CARD_OK)
    event = session_event(stripe_env, "checkout.session.completed", cast(str, order.provider_session_id))
    confirmers = [client_for(user) for _ in range(50)]
    stripe_clients = [client_for(user) for _ in range(10)]  # unauthenticated use is fine for the webhook
    for client in stripe_clients:
        client.credentials()

    # when: all 60 at once (in waves of 20 threads)
    calls = [
        lambda c=c: c.post("/api/v1/orders/confirm/", {"session_id": order.provider_session_id})
        for c in confirmers
    ]
    calls += [lambda c=c: post_event(c, event) for c in stripe_clients]
    responses = run_concurrently(calls, workers=20)

    # then
    assert [r.status_code for r in responses] == [200] * 60
    assert {r.json()["status"] for r in responses[:50]} == {"paid"}
    assert sorted(r.json().get("duplicate", False) for r in responses[50:]) == [False] + [True] * 9
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=order, to_status="paid").count() == 1
    assert OrderEvent.objects.filter(order=order).count() == 1
    assert ProviderEvent.objects.filter(event_id=event["id"]).count() == 1
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.CHECKED_OUT


def test_end_to_end_pay_then_stripe_delivers_the_webhook(
    stripe_env: FakeStripeServer, live_server: LiveServer, user: User
) -> None:
    # given: fakestripe delivers signed webhooks to the running app
    stripe_env.config(webhook_url=live_server.url + WEBHOOK_PATH, auto_deliver=True)
    cart = make_cart(user)
    order_id = client_for(user).post(checkout_url(cart)).json()["order_id"]
    order = Order.objects.get(pk=order_id)

    # when
    assert stripe_env.pay(cast(str, order.provider_session_id), CARD_OK).status_code == 200

    # then
    assert _wait_for(lambda: Order.objects.get(pk=order_id).status == Order.Status.PAID)
    [record] = stripe_env.events(type="checkout.session.completed")
    assert _wait_for(lambda: stripe_env.events(type="checkout.session.completed")[0]["delivered"])
    assert stripe_env.events(type="checkout.session.completed")[0]["last_status"] == 200
    assert (
        OrderEvent.objects.filter(
            order_id=order_id, source="webhook", provider_event_id=record["event"]["id"]
        ).count()
        == 1
    )

    # when: Stripe delivers the same event again (manual redelivery)
    again = stripe_env.deliver(record["event"]["id"])

    # then
    assert again["status"] == 200
    assert OrderEvent.objects.filter(order_id=order_id).count() == 1


def test_end_to_end_changed_cart_while_paid_webhook_is_held(
    stripe_env: FakeStripeServer, live_server: LiveServer, user: User
) -> None:
    # given: webhooks go to the app but are held (not auto-delivered)
    from tests.factories import CartItemFactory, ProductFactory

    stripe_env.config(webhook_url=live_server.url + WEBHOOK_PATH, auto_deliver=False)
    client = client_for(user)
    cart = make_cart(user)
    first = client.post(checkout_url(cart)).json()
    stripe_env.pay(first["session_id"], CARD_OK)
    CartItemFactory.create(cart=cart, product=ProductFactory.create())

    # when
    response = client.post(checkout_url(cart))

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "cart_already_paid"
    assert Order.objects.get(pk=first["order_id"]).status == Order.Status.PAID
    assert len(stripe_env.client().v1.checkout.sessions.list({"limit": 100}).data) == 1

    # when: the held webhook finally arrives
    [record] = stripe_env.events(type="checkout.session.completed")
    assert stripe_env.deliver(record["event"]["id"])["status"] == 200

    # then: nothing more happens
    assert OrderEvent.objects.filter(order_id=first["order_id"], to_status="paid").count() == 1


def test_checkouts_racing_the_paid_webhook_never_deadlock(stripe_env: FakeStripeServer, user: User) -> None:
    # given: paid at Stripe, webhook held, cart changed (so a checkout must close the old session)
    from tests.factories import CartItemFactory, ProductFactory

    cart = make_cart(user)
    first = client_for(user).post(checkout_url(cart)).json()
    stripe_env.pay(first["session_id"], CARD_OK)
    CartItemFactory.create(cart=cart, product=ProductFactory.create())
    event = session_event(stripe_env, "checkout.session.completed", first["session_id"])
    shoppers = [client_for(user) for _ in range(10)]
    stripe_side = [client_for(user) for _ in range(10)]
    for client in stripe_side:
        client.credentials()

    # when: checkouts (cart lock → order lock) race webhooks (fulfil: cart lock → order update)
    calls = [lambda c=c: c.post(checkout_url(cart)) for c in shoppers]
    calls += [lambda c=c: post_event(c, event) for c in stripe_side]
    responses = run_concurrently(calls, workers=20)

    # then: no 500 (a deadlock would abort one side), one paid transition, no second session
    assert {r.status_code for r in responses[:10]} == {409}
    assert {r.json()["code"] for r in responses[:10]} <= {"cart_already_paid", "cart_checked_out"}
    assert [r.status_code for r in responses[10:]] == [200] * 10
    assert OrderEvent.objects.filter(order_id=first["order_id"], to_status="paid").count() == 1
    assert len(stripe_env.client().v1.checkout.sessions.list({"limit": 100}).data) == 1
