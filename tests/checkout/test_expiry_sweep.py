"""Background expiry end to end: the sweep expires an unread session, its webhook expires the order.

Nobody reads the session here (no confirm, no cancel, no reconciliation, no lazy expiry on a
read): the order can only learn of the expiry from the `checkout.session.expired` event that
fakestripe's sweep sends to the running app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from checkout.models import Order, OrderEvent
from fakestripe.sweep import SWEEP_INTERVAL
from payments.models import ProviderEvent
from payments.stripe.gateway import StripeGateway
from tests.checkout.conftest import WEBHOOK_PATH, checkout_url, make_cart
from tests.conftest import client_for
from tests.stripe_fixtures import FakeStripeServer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

EXPIRED = "checkout.session.expired"


def _wait_for(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def _past_expiry(stripe_env: FakeStripeServer, expires_at: datetime | None) -> None:
    """Move fakestripe's clock one second past `expires_at` (the sweep does the rest)."""
    assert expires_at is not None
    now = stripe_env.advance_clock(0)
    stripe_env.advance_clock(int(expires_at.timestamp()) - now + 1)


def _expired_records(stripe_env: FakeStripeServer, session_id: str) -> list[dict[str, Any]]:
    return [r for r in stripe_env.events(type=EXPIRED) if r["event"]["data"]["object"]["id"] == session_id]


def _delivered_ok(record: dict[str, Any]) -> bool:
    return bool(record["delivered"]) and record["last_status"] == 200


@pytest.fixture
def stripe_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids of the sessions the app reads or closes at Stripe (the live server runs in this process)."""
    calls: list[str] = []
    retrieve, expire = StripeGateway.session_retrieve, StripeGateway.session_expire

    def counted_retrieve(self: StripeGateway, *, session_id: str) -> Any:
        calls.append(f"retrieve {session_id}")
        return retrieve(self, session_id=session_id)

    def counted_expire(self: StripeGateway, *, session_id: str) -> Any:
        calls.append(f"expire {session_id}")
        return expire(self, session_id=session_id)

    monkeypatch.setattr(StripeGateway, "session_retrieve", counted_retrieve)
    monkeypatch.setattr(StripeGateway, "session_expire", counted_expire)
    return calls


def test_sweep_expires_an_unread_session_and_its_webhook_expires_the_order(
    stripe_env: FakeStripeServer, live_server: LiveServer, user: User, stripe_reads: list[str]
) -> None:
    # given: a pending order with an open session; fakestripe delivers webhooks to the app
    stripe_env.config(webhook_url=live_server.url + WEBHOOK_PATH, auto_deliver=True)
    order_id = client_for(user).post(checkout_url(make_cart(user))).json()["order_id"]
    order = Order.objects.get(pk=order_id)
    session_id = order.provider_session_id
    assert order.status == Order.Status.PENDING
    assert session_id

    # when: fakestripe's time passes the session's expiry, and nobody reads the session
    _past_expiry(stripe_env, order.session_expires_at)

    # then: the sweep's event, delivered once, expired the order
    assert _wait_for(lambda: Order.objects.get(pk=order_id).status == Order.Status.EXPIRED)
    assert _wait_for(lambda: all(_delivered_ok(r) for r in _expired_records(stripe_env, session_id)))
    [record] = _expired_records(stripe_env, session_id)
    assert [attempt["status"] for attempt in record["attempts"]] == [200]
    assert list(
        OrderEvent.objects.filter(order_id=order_id).values_list("source", "from_status", "to_status")
    ) == [("webhook", "pending", "expired")]
    assert OrderEvent.objects.get(order_id=order_id).provider_event_id == record["event"]["id"]
    assert stripe_reads == []  # the app never asked Stripe about the session

    # when: one more sweep goes by
    time.sleep(SWEEP_INTERVAL * 2)

    # then: no second event, nothing more recorded
    assert len(stripe_env.events(type=EXPIRED)) == 1
    assert ProviderEvent.objects.filter(event_id=record["event"]["id"]).count() == 1
    assert OrderEvent.objects.filter(order_id=order_id).count() == 1
    assert stripe_reads == []


def test_sweep_after_a_superseding_checkout_leaves_the_old_order_cancelled(
    stripe_env: FakeStripeServer, live_server: LiveServer, user: User, stripe_reads: list[str]
) -> None:
    # given: the cart changed after checkout, so a second checkout closed the first session and
    # cancelled its order; that close's own `expired` event reached the app and changed nothing
    from tests.factories import CartItemFactory, ProductFactory

    stripe_env.config(webhook_url=live_server.url + WEBHOOK_PATH, auto_deliver=True)
    client = client_for(user)
    cart = make_cart(user)
    old = client.post(checkout_url(cart)).json()
    CartItemFactory.create(cart=cart, product=ProductFactory.create())
    new = client.post(checkout_url(cart)).json()
    assert stripe_reads == [f"expire {old['session_id']}"]
    assert _wait_for(lambda: all(_delivered_ok(r) for r in _expired_records(stripe_env, old["session_id"])))
    assert len(_expired_records(stripe_env, old["session_id"])) == 1
    old_order, new_order = Order.objects.get(pk=old["order_id"]), Order.objects.get(pk=new["order_id"])
    assert (old_order.status, new_order.status) == (Order.Status.CANCELLED, Order.Status.PENDING)
    stripe_reads.clear()

    # when: fakestripe's time passes both sessions' expiry
    _past_expiry(stripe_env, max(filter(None, [old_order.session_expires_at, new_order.session_expires_at])))

    # then: the sweep expired the new session (its order too); the old order stays cancelled
    assert _wait_for(lambda: Order.objects.get(pk=new["order_id"]).status == Order.Status.EXPIRED)
    assert _wait_for(lambda: all(_delivered_ok(r) for r in stripe_env.events(type=EXPIRED)))
    time.sleep(SWEEP_INTERVAL * 2)  # one more sweep
    assert len(_expired_records(stripe_env, old["session_id"])) == 1  # only the close's
    assert len(_expired_records(stripe_env, new["session_id"])) == 1
    assert list(
        OrderEvent.objects.filter(order_id=old["order_id"]).values_list("source", "from_status", "to_status")
    ) == [("api", "pending", "cancelled")]
    assert Order.objects.get(pk=old["order_id"]).status == Order.Status.CANCELLED
    assert list(
        OrderEvent.objects.filter(order_id=new["order_id"]).values_list("source", "from_status", "to_status")
    ) == [("webhook", "pending", "expired")]
    assert stripe_reads == []
