"""Real threads on PostgreSQL: 20 simultaneous checkouts of one cart open exactly one session."""

from __future__ import annotations

import pytest
import stripe

from accounts.models import User
from checkout.models import Order
from tests.checkout.conftest import checkout_url, make_cart, run_concurrently
from tests.conftest import client_for
from tests.stripe_fixtures import FakeStripeServer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_checkouts_make_one_order_and_one_session(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User
) -> None:
    # given: 20 devices/tabs, each with its own client and JWT
    cart = make_cart(user, lines=3)
    clients = [client_for(user) for _ in range(20)]

    # when
    responses = run_concurrently([lambda c=c: c.post(checkout_url(cart)) for c in clients], workers=20)

    # then
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201]
    bodies = [r.json() for r in responses]
    assert len({b["checkout_url"] for b in bodies}) == 1
    assert len({b["order_id"] for b in bodies}) == 1
    assert Order.objects.filter(cart=cart).count() == 1
    sessions = stripe_client.v1.checkout.sessions.list({"limit": 100}).data
    assert [s["id"] for s in sessions] == [bodies[0]["session_id"]]
