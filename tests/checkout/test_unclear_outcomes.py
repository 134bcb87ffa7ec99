"""Calls to the provider that get no answer: the outcome is unknown, so it is recorded, never
guessed, and resolved before anything relies on the session. A cart never gets two payable
sessions, a closed session is never handed out again, and a session paid after a timeout pays
its order."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order
from checkout.services.reconcile import payments_reconcile
from checkout.states import can_refund
from tests.checkout.backoffice import admin_client_for, staff_user, stripe_order
from tests.checkout.conftest import CARD_OK, checkout_url, make_cart, post_event, session_event
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

S = Order.Status


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _no_answer(settings: SettingsWrapper, fake: FakeStripeServer, fault: str) -> None:
    """The next provider call gets no answer: it times out (the provider still acts) or is refused."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    if fault == "timeout":
        settings.STRIPE_TIMEOUT_SECONDS = 0.5
        fake.faults(latency_ms=1_500)
    else:
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"


def _answers_again(settings: SettingsWrapper, fake: FakeStripeServer) -> None:
    fake.faults()
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_TIMEOUT_SECONDS = 5.0
    time.sleep(1.2)  # the timed-out call finishes at the provider meanwhile


def _sessions_of(client: stripe.StripeClient, order: Order) -> list[dict[str, Any]]:
    sessions = [s.to_dict() for s in client.v1.checkout.sessions.list({"limit": 100}).data]
    return [s for s in sessions if s["client_reference_id"] == str(order.pk)]


@pytest.mark.parametrize("fault", ["timeout", "refused"])
def test_a_checkout_without_answer_keeps_its_order_pending_and_the_retry_gets_its_one_session(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
    fault: str,
) -> None:
    # given
    cart = make_cart(user)
    _no_answer(settings, stripe_env, fault)

    # when
    response = auth_client.post(checkout_url(cart))

    # then: 503, and the order waits, its session unknown
    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    order = Order.objects.get(cart=cart)
    assert (order.status, order.provider_session_id) == (S.PENDING, None)
    assert order.session_unclear_since is not None
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.OPEN

    # when: the provider answers again and the customer retries
    _answers_again(settings, stripe_env)
    retry = auth_client.post(checkout_url(cart))

    # then: the same order, with the one session its key made (the timed-out one, or one now)
    assert retry.status_code == 200
    order.refresh_from_db()
    assert (retry.json()["order_id"], retry.json()["session_id"]) == (
        str(order.pk),
        order.provider_session_id,
    )
    assert order.session_unclear_since is None
    assert [s["id"] for s in _sessions_of(stripe_client, order)] == [order.provider_session_id]
    assert Order.objects.filter(cart=cart).count() == 1


def test_a_session_paid_after_its_create_timed_out_pays_the_order(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
    api_client: APIClient,
) -> None:
    # given: the create timed out, but the provider made the session, and the customer paid it
    cart = make_cart(user)
    _no_answer(settings, stripe_env, "timeout")
    assert auth_client.post(checkout_url(cart)).status_code == 503
    _answers_again(settings, stripe_env)
    order = Order.objects.get(cart=cart)
    [orphan] = _sessions_of(stripe_client, order)
    assert stripe_env.pay(orphan["id"], CARD_OK).status_code == 200

    # when: its webhook arrives
    assert (
        post_event(
            api_client, session_event(stripe_env, "checkout.session.completed", orphan["id"])
        ).status_code
        == 200
    )

    # then: a paid order, with the session and payment recorded, which staff can refund
    order.refresh_from_db()
    assert (order.status, order.provider_session_id) == (S.PAID, orphan["id"])
    assert order.payment_id.startswith("pi_")
    assert order.session_unclear_since is None
    assert can_refund(order)


def test_reconciliation_resolves_an_unclear_create(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
) -> None:
    # given
    cart = make_cart(user)
    _no_answer(settings, stripe_env, "refused")
    assert auth_client.post(checkout_url(cart)).status_code == 503
    _answers_again(settings, stripe_env)

    # when
    summary = payments_reconcile(older_than=timedelta(0))

    # then: the order has its one session, still open and payable
    order = Order.objects.get(cart=cart)
    assert (summary.checked, summary.left_open) == (1, 1)
    assert order.status == S.PENDING
    assert order.session_unclear_since is None
    assert [s["id"] for s in _sessions_of(stripe_client, order)] == [order.provider_session_id]


def test_a_cancel_without_answer_never_hands_the_closed_session_out_again(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
) -> None:
    # given: an open session; the customer cancels, the provider expires it but answers too late
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    _no_answer(settings, stripe_env, "timeout")
    cancel = auth_client.post(f"/api/v1/orders/{first['order_id']}/cancel/")
    assert (cancel.status_code, cancel.json()["code"]) == (503, "payment_provider_unavailable")
    _answers_again(settings, stripe_env)
    assert stripe_client.v1.checkout.sessions.retrieve(first["session_id"])["status"] == "expired"
    assert Order.objects.get(pk=first["order_id"]).session_unclear_since is not None

    # when: the same cart is checked out again, before any webhook
    again = auth_client.post(checkout_url(cart))

    # then: not the dead link: the old order is expired, a new order has a new session
    assert again.status_code == 201
    assert again.json()["session_id"] != first["session_id"]
    assert Order.objects.get(pk=first["order_id"]).status == S.EXPIRED


def test_a_failed_orders_session_paid_anyway_becomes_a_paid_order(
    stripe_env: FakeStripeServer, api_client: APIClient
) -> None:
    # given: an order failed before it learned of its session (as the code before unclear
    # outcomes did after a timeout), and the session was paid anyway
    order = stripe_order(stripe_env, pay_with=CARD_OK, fulfil=False)
    session_id = order.provider_session_id
    assert session_id is not None
    Order.objects.filter(pk=order.pk).update(status=S.FAILED, provider_session_id=None)

    # when
    post_event(api_client, session_event(stripe_env, "checkout.session.completed", session_id))

    # then: money taken is never refused: the order is paid and can be refunded
    order.refresh_from_db()
    assert (order.status, order.provider_session_id) == (S.PAID, session_id)
    assert can_refund(order)
    assert order.events.filter(from_status=S.FAILED, to_status=S.PAID, source="webhook").count() == 1


def test_a_refund_without_answer_says_the_outcome_is_unknown_and_resubmitting_is_safe(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, settings: SettingsWrapper
) -> None:
    # given
    client: Client = admin_client_for(staff_user("checkout.view_order", "checkout.refund_order"))
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    _no_answer(settings, stripe_env, "timeout")

    # when
    response = client.post(url, {"amount": "100.00", "amount_refunded_before": 0})

    # then
    [message] = [m.message for m in response.context["messages"]]
    assert "the outcome is unknown" in message
    assert "Submitting this form again is safe" in message

    # when: resubmitted once the provider answers
    _answers_again(settings, stripe_env)
    client.post(url, {"amount": "100.00", "amount_refunded_before": 0})

    # then: refunded once
    intent = stripe_client.v1.payment_intents.retrieve(order.payment_id)
    refunds = stripe_client.v1.refunds.list({"payment_intent": intent.id}).data
    assert [r.amount for r in refunds] == [10_000]
    order.refresh_from_db()
    assert order.amount_refunded == 10_000
