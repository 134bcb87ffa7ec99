"""A failed asynchronous payment whose webhook never arrived is still settled, by every path.

After a delayed payment fails, Stripe leaves the session `complete` + `unpaid`; only its payment
intent says `requires_payment_method`. Without `checkout.session.async_payment_failed` the order
would stay pending for ever and block its cart (every checkout a 409 `payment_in_progress`).
Confirm, cancel, a new checkout and reconciliation all read the payment intent and mark the order
`failed` instead.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent
from checkout.services.reconcile import payments_reconcile
from tests.checkout.conftest import CARD_ASYNC, checkout_url, make_cart, order_of
from tests.factories import CartItemFactory, ProductFactory
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

CONFIRM = "/api/v1/orders/confirm/"


@pytest.fixture
def failed_async(stripe_env: FakeStripeServer, user: User, auth_client: APIClient) -> tuple[Cart, Order, str]:
    """A pending order whose async payment failed at Stripe; no webhook was delivered."""
    # given
    cart = make_cart(user)
    session_id = auth_client.post(checkout_url(cart)).json()["session_id"]
    assert stripe_env.pay(session_id, card=CARD_ASYNC).status_code == 200
    assert stripe_env.settle(session_id, "failed").status_code == 200
    order = order_of(cart)
    assert order.status == Order.Status.PENDING
    return cart, order, session_id


def _failed_events(order: Order) -> list[tuple[str, str, str]]:
    return list(
        OrderEvent.objects.filter(order=order, to_status=Order.Status.FAILED).values_list(
            "from_status", "to_status", "source"
        )
    )


def test_confirm_marks_the_order_failed(
    failed_async: tuple[Cart, Order, str], auth_client: APIClient
) -> None:
    _, order, session_id = failed_async
    # when
    response = auth_client.post(CONFIRM, {"session_id": session_id}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert _failed_events(order) == [("pending", "failed", "api")]


def test_new_checkout_fails_the_old_order_and_opens_one_session(
    failed_async: tuple[Cart, Order, str], auth_client: APIClient, stripe_client: stripe.StripeClient
) -> None:
    cart, order, old_session = failed_async
    CartItemFactory.create(cart=cart, product=ProductFactory.create(unit_amount=1000))
    # when
    response = auth_client.post(checkout_url(cart))
    # then
    assert response.status_code == 201
    assert response.json()["session_id"] != old_session
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert _failed_events(order) == [("pending", "failed", "api")]
    assert str(Order.objects.get(cart=cart, status=Order.Status.PENDING).pk) == response.json()["order_id"]
    open_sessions = stripe_client.v1.checkout.sessions.list(params={"status": "open", "limit": 100}).data
    assert [s.id for s in open_sessions] == [response.json()["session_id"]]


def test_cancel_answers_409_and_the_order_is_failed(
    failed_async: tuple[Cart, Order, str], auth_client: APIClient
) -> None:
    _, order, _ = failed_async
    # when
    response = auth_client.post(f"/api/v1/orders/{order.pk}/cancel/")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "order_payment_failed"
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED


def test_reconcile_marks_the_order_failed_once(failed_async: tuple[Cart, Order, str]) -> None:
    _, order, _ = failed_async
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at - timedelta(hours=1))
    # when
    first = payments_reconcile(older_than=timedelta(minutes=15))
    second = payments_reconcile(older_than=timedelta(minutes=15))
    # then
    assert str(first) == "checked 1, paid 0, expired 0, left open 0, errors 0, failed 1"
    assert str(second) == "checked 0, paid 0, expired 0, left open 0, errors 0"
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert _failed_events(order) == [("pending", "failed", "reconcile")]
