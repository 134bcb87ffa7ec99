"""Refunds as their own records: pending, succeeded, failed (even after succeeding), each provider
event processed once, and only succeeded refunds counted in what an order has refunded."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Order, Refund
from tests.checkout.backoffice import admin_client_for, staff_user, stripe_order
from tests.checkout.conftest import post_event, stripe_events
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

S = Order.Status
CARD_REFUND_PENDING = "4000000000007726"  # Stripe's test card whose refunds start pending
CARD_REFUND_FAILS = "4000000000005126"  # ... whose refunds succeed, then may fail


@pytest.fixture
def client() -> Client:
    return admin_client_for(staff_user("checkout.view_order", "checkout.refund_order"))


def refund(client: Client, order: Order, amount: str) -> Any:
    before = order.amount_refunded + order.amount_refund_pending
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    return client.post(url, {"amount": amount, "amount_refunded_before": before})


def deliver_all(fake: FakeStripeServer, api: APIClient, type: str) -> list[int]:
    return [post_event(api, event).status_code for event in stripe_events(fake, type)]


def test_a_pending_refund_counts_only_once_it_succeeds(
    stripe_env: FakeStripeServer, client: Client, api_client: APIClient
) -> None:
    # given: a payment whose refunds start pending (₹1,000.00)
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2, pay_with=CARD_REFUND_PENDING)

    # when: staff refund ₹100.00
    response = refund(client, order, "100.00")

    # then: recorded as pending; nothing counted as refunded yet, but it can't be refunded twice
    assert response.status_code == 302
    order.refresh_from_db()
    [row] = Refund.objects.filter(order=order)
    assert (row.status, row.amount) == ("pending", 10_000)
    assert row.requested_by
    assert (order.status, order.amount_refunded, order.amount_refund_pending) == (S.PAID, 0, 10_000)
    page = client.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert "refund-status-pending" in page

    # when: the provider settles it and its events arrive (twice)
    assert stripe_env.settle_refund(row.provider_refund_id, "succeeded").status_code == 200
    assert deliver_all(stripe_env, api_client, "refund.updated") == [200]
    assert deliver_all(stripe_env, api_client, "refund.updated") == [200]  # a replay

    # then
    order.refresh_from_db()
    row.refresh_from_db()
    assert row.status == "succeeded"
    assert (order.status, order.amount_refunded, order.amount_refund_pending) == (
        S.PARTIALLY_REFUNDED,
        10_000,
        0,
    )
    assert order.events.filter(to_status=S.PARTIALLY_REFUNDED).count() == 1


def test_a_refund_that_fails_after_succeeding_moves_the_order_back_and_shows_why(
    stripe_env: FakeStripeServer, client: Client, api_client: APIClient
) -> None:
    # given: a full refund that succeeded
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2, pay_with=CARD_REFUND_FAILS)
    refund(client, order, "1000.00")
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.REFUNDED, 100_000)
    [row] = Refund.objects.filter(order=order)

    # when: it fails at the provider; refund.updated and refund.failed arrive, then again
    assert (
        stripe_env.settle_refund(row.provider_refund_id, "failed", "lost_or_stolen_card").status_code == 200
    )
    first = deliver_all(stripe_env, api_client, "refund.updated") + deliver_all(
        stripe_env, api_client, "refund.failed"
    )
    again = deliver_all(stripe_env, api_client, "refund.failed")

    # then: back to paid, the amount refundable again, the reason in the history and on the page
    assert (first, again) == ([200, 200], [200])
    order.refresh_from_db()
    row.refresh_from_db()
    assert (row.status, row.failure_reason) == ("failed", "lost_or_stolen_card")
    assert (order.status, order.amount_refunded, order.amount_refund_pending) == (S.PAID, 0, 0)
    back = order.events.get(from_status=S.REFUNDED)
    assert back.to_status == S.PAID
    assert "lost_or_stolen_card" in back.message
    page = client.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert "refund-status-failed" in page
    assert "lost_or_stolen_card" in page


def test_a_pending_refund_that_fails_changes_no_refunded_amount(
    stripe_env: FakeStripeServer, client: Client, api_client: APIClient
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2, pay_with=CARD_REFUND_PENDING)
    refund(client, order, "400.00")
    [row] = Refund.objects.filter(order=order)

    # when
    stripe_env.settle_refund(row.provider_refund_id, "failed", "declined")
    deliver_all(stripe_env, api_client, "refund.failed")

    # then: nothing was ever counted as refunded, and the whole total can be refunded again
    order.refresh_from_db()
    assert (order.status, order.amount_refunded, order.amount_refund_pending) == (S.PAID, 0, 0)
    history = list(order.events.values_list("from_status", "to_status", "message"))
    assert [(frm, to) for frm, to, _ in history] == [
        ("", "pending"),
        ("pending", "paid"),
        ("paid", "paid"),
        ("paid", "paid"),
    ]
    assert "pending at the payment provider" in history[2][2]
    assert "declined" in history[3][2]
    assert refund(client, order, "1000.00").status_code == 302
    order.refresh_from_db()
    assert order.amount_refund_pending == 100_000


def test_a_refund_made_in_the_providers_dashboard_is_recorded_from_its_event(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, api_client: APIClient
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)

    # when: a refund outside shopapi, and its refund.created event
    stripe_client.v1.refunds.create({"payment_intent": order.payment_id, "amount": 2_500})
    assert deliver_all(stripe_env, api_client, "refund.created") == [200]

    # then
    order.refresh_from_db()
    [row] = Refund.objects.filter(order=order)
    assert (row.status, row.amount, row.requested_by) == ("succeeded", 2_500, "")
    assert (order.status, order.amount_refunded) == (S.PARTIALLY_REFUNDED, 2_500)


def test_charge_refunded_reads_every_refund_and_counts_pending_ones_as_pending(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, api_client: APIClient, user: User
) -> None:
    # given: a dashboard refund that is pending; only charge.refunded reaches us
    order = stripe_order(stripe_env, user, unit_amount=50_000, quantity=2, pay_with=CARD_REFUND_PENDING)
    stripe_client.v1.refunds.create({"payment_intent": order.payment_id, "amount": 30_000})

    # when
    assert deliver_all(stripe_env, api_client, "charge.refunded") == [200]

    # then: recorded, pending, not refunded
    order.refresh_from_db()
    assert [r.status for r in Refund.objects.filter(order=order)] == ["pending"]
    assert (order.status, order.amount_refunded, order.amount_refund_pending) == (S.PAID, 0, 30_000)
