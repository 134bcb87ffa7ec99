"""Refunds from the back-office, through the real SDK against fakestripe.

The admin page (permission, form, messages) and the service (`order_refund`: bounds, lock,
idempotency key, one transition) are both exercised; the `charge.refunded` webhook that Stripe
sends afterwards must agree and change nothing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, cast

import pytest
import stripe
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Order, OrderEvent
from checkout.services.refunds import order_refund, refund_idempotency_key
from payments.stripe import api as stripe_gateway
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, PaymentProviderError
from tests.checkout.backoffice import admin_client_for, make_order, staff_user, stripe_order
from tests.checkout.conftest import post_event, run_concurrently, stripe_events
from tests.stripe_fixtures import FakeStripeServer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture
def refunder() -> User:
    return staff_user("checkout.view_order", "checkout.refund_order")


@pytest.fixture
def client(refunder: User) -> Client:
    return admin_client_for(refunder)


def refund_url(order: Order) -> str:
    return reverse("admin:checkout_order_refund", args=[order.pk])


def change_url(order: Order) -> str:
    return reverse("admin:checkout_order_change", args=[order.pk])


def messages_of(response: _MonkeyPatchedWSGIResponse) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def stripe_refunded(stripe_client: stripe.StripeClient, order: Order) -> int:
    """What Stripe says was refunded on the order's charge."""
    intent = stripe_client.v1.payment_intents.retrieve(order.payment_id)
    charge_id = (
        intent.latest_charge
        if isinstance(intent.latest_charge, str)
        else cast(stripe.Charge, intent.latest_charge).id
    )
    return int(stripe_client.v1.charges.retrieve(charge_id).amount_refunded)


def refund_events(fake: FakeStripeServer) -> list[dict]:
    return stripe_events(fake, "charge.refunded")


# --------------------------------------------------------------------------- page and permission


def test_refund_page_shows_what_is_left_in_major_units(stripe_env: FakeStripeServer, client: Client) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)  # ₹1,000.00

    # when
    detail = client.get(change_url(order))
    page = client.get(refund_url(order))

    # then
    assert refund_url(order) in detail.content.decode()  # the button
    assert page.status_code == 200
    html = page.content.decode()
    assert "Amount to refund, in INR (major units" in html
    assert "Up to ₹1,000.00 can be refunded" in html
    assert page.context["form"]["amount"].initial == Decimal("1000.00")


def test_refund_page_of_a_guest_order_names_its_email(client: Client) -> None:
    # given: a paid guest order (no user)
    order = make_order(status=S.PAID)
    Order.objects.filter(pk=order.pk).update(user=None, email="guest.buyer@example.com", token_hash="0" * 64)
    # when
    page = client.get(refund_url(order))
    # then
    assert page.status_code == 200
    assert ("Customer", "guest.buyer@example.com") in page.context["summary"]


def test_staff_without_refund_permission_gets_403_and_no_button(stripe_env: FakeStripeServer) -> None:
    # given
    order = stripe_order(stripe_env)
    viewer = admin_client_for(staff_user("checkout.view_order"))

    # when
    detail = viewer.get(change_url(order))
    page = viewer.get(refund_url(order))
    post = viewer.post(refund_url(order), {"amount": "1.00", "amount_refunded_before": 0})

    # then
    assert detail.status_code == 200
    assert refund_url(order) not in detail.content.decode()
    assert page.status_code == 403
    assert post.status_code == 403
    assert refund_events(stripe_env) == []
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PAID, 0)


def test_no_refund_button_for_an_unpaid_order(client: Client) -> None:
    # given
    order = make_order(status=S.PENDING)

    # when
    detail = client.get(change_url(order))
    page = client.get(refund_url(order))

    # then
    assert refund_url(order) not in detail.content.decode()
    assert page.status_code == 200
    assert "Nothing can be refunded on this order" in page.content.decode()
    assert "order_refund_form" not in page.content.decode()


# --------------------------------------------------------------------------- full and partial


def test_full_refund_moves_the_order_to_refunded_once(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, client: Client, refunder: User
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    events_before = order.events.count()

    # when
    response = client.post(refund_url(order), {"amount": "1000.00", "amount_refunded_before": 0})

    # then
    assert response.status_code == 302
    assert response["Location"] == change_url(order)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.REFUNDED, 100_000)
    assert stripe_refunded(stripe_client, order) == 100_000
    [event] = order.events.all()[events_before:]
    assert (event.from_status, event.to_status, event.source) == ("paid", "refunded", "admin")
    assert len(refund_events(stripe_env)) == 1
    [refund_id] = re.findall(r"\bre_\w+", event.message)
    refund = stripe_client.v1.refunds.retrieve(refund_id)
    assert (refund.amount, refund.payment_intent) == (100_000, order.payment_id)
    assert refund.metadata["order_id"] == str(order.pk)  # type: ignore[index]  # created with metadata
    assert refunder.username in event.message
    assert ("success", f"Refunded ₹1,000.00 on order {order.number}; it is now refunded.") in messages_of(
        response
    )


def test_partial_then_the_rest(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, client: Client
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)

    # when: a partial refund of ₹250.50
    client.post(refund_url(order), {"amount": "250.50", "amount_refunded_before": 0})

    # then
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PARTIALLY_REFUNDED, 25_050)
    assert client.get(refund_url(order)).context["form"]["amount"].initial == Decimal("749.50")

    # when: the rest
    client.post(refund_url(order), {"amount": "749.50", "amount_refunded_before": 25_050})

    # then
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.REFUNDED, 100_000)
    assert stripe_refunded(stripe_client, order) == 100_000
    assert list(order.events.values_list("from_status", "to_status", "source")) == [
        ("", "pending", "api"),
        ("pending", "paid", "api"),
        ("paid", "partially_refunded", "admin"),
        ("partially_refunded", "refunded", "admin"),
    ]
    assert refund_url(order) not in client.get(change_url(order)).content.decode()  # nothing left


def test_the_later_charge_refunded_webhook_agrees_and_changes_nothing(
    stripe_env: FakeStripeServer, client: Client, api_client: APIClient
) -> None:
    # given: a partial and a full refund made in the admin
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    client.post(refund_url(order), {"amount": "100.00", "amount_refunded_before": 0})
    client.post(refund_url(order), {"amount": "900.00", "amount_refunded_before": 10_000})
    order.refresh_from_db()
    events_before = list(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    webhook_events = refund_events(stripe_env)
    assert len(webhook_events) == 2

    # when: Stripe's charge.refunded events arrive (signed), in order and then out of order
    answers = [post_event(api_client, event).status_code for event in [*webhook_events, webhook_events[0]]]

    # then
    assert answers == [200, 200, 200]
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.REFUNDED, 100_000)
    assert list(OrderEvent.objects.filter(order=order).values_list("pk", flat=True)) == events_before


# --------------------------------------------------------------------------- refused amounts


@pytest.mark.parametrize("amount", ["1000.01", "5000", "0", "0.00"])
def test_amount_outside_what_is_left_is_a_form_error_and_reaches_no_stripe(
    stripe_env: FakeStripeServer, client: Client, amount: str
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)

    # when
    response = client.post(refund_url(order), {"amount": amount, "amount_refunded_before": 0})

    # then
    assert response.status_code == 200
    errors = response.context["form"].errors["amount"]
    assert errors == ["The amount must be between ₹0.01 and ₹1,000.00 (what is left to refund)."]
    assert refund_events(stripe_env) == []
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PAID, 0)


@pytest.mark.parametrize("amount", ["12.345", "-1", "abc", ""])
def test_malformed_amount_is_a_form_error(stripe_env: FakeStripeServer, client: Client, amount: str) -> None:
    # given
    order = stripe_order(stripe_env)

    # when
    response = client.post(refund_url(order), {"amount": amount, "amount_refunded_before": 0})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert refund_events(stripe_env) == []


def test_over_refund_after_a_partial_refund_is_refused(stripe_env: FakeStripeServer, client: Client) -> None:
    # given: ₹900 of ₹1,000 already refunded
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    client.post(refund_url(order), {"amount": "900", "amount_refunded_before": 0})

    # when
    response = client.post(refund_url(order), {"amount": "100.01", "amount_refunded_before": 90_000})

    # then
    assert response.context["form"].errors["amount"] == [
        "The amount must be between ₹0.01 and ₹100.00 (what is left to refund)."
    ]
    assert len(refund_events(stripe_env)) == 1
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PARTIALLY_REFUNDED, 90_000)


# --------------------------------------------------------------------------- idempotency


def test_double_submit_refunds_once(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, client: Client
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    form = {"amount": "300.00", "amount_refunded_before": 0}

    # when: the same form is submitted twice (double click, resubmit after a slow answer)
    first = client.post(refund_url(order), form)
    second = client.post(refund_url(order), form)

    # then
    assert first.status_code == 302
    assert second.status_code == 302
    assert second["Location"] == change_url(order)
    [text] = [text for level, text in messages_of(second) if level == "warning"]
    assert "changed since this form was shown" in text
    assert "Nothing was refunded" in text
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PARTIALLY_REFUNDED, 30_000)
    assert stripe_refunded(stripe_client, order) == 30_000
    assert len(refund_events(stripe_env)) == 1
    assert order.events.filter(source="admin").count() == 1


def test_a_refund_whose_commit_was_lost_is_replayed_by_stripe_not_repeated(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, refunder: User
) -> None:
    # given: an earlier attempt reached Stripe but our transaction never committed
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    key = refund_idempotency_key(order_id=order.pk, amount_refunded_before=0, amount=40_000)
    assert key == f"refund:{order.pk}:0:40000"
    earlier = stripe_gateway.refund_create(
        payment_intent_id=order.payment_id,
        amount=40_000,
        idempotency_key=key,
        metadata={"order_id": str(order.pk), "order_number": order.number},
    )

    # when: staff (maybe someone else) retries the same refund
    refunded = order_refund(order_id=order.pk, amount=40_000, staff_user=refunder)

    # then: Stripe replayed the first refund; the charge was refunded once
    assert (refunded.status, refunded.amount_refunded) == (S.PARTIALLY_REFUNDED, 40_000)
    assert stripe_refunded(stripe_client, order) == 40_000
    assert earlier.id in order.events.get(source="admin").message


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_the_same_order_refund_once(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, refunder: User
) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)

    def refund() -> Order | ErrorCode:
        try:
            return order_refund(
                order_id=order.pk, amount=100_000, staff_user=refunder, expected_amount_refunded=0
            )
        except ConflictError as exc:
            return exc.code

    # when
    results = run_concurrently([refund] * 4, workers=4)

    # then
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == ["ok", *["refund_stale"] * 3]
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.REFUNDED, 100_000)
    assert stripe_refunded(stripe_client, order) == 100_000
    assert order.events.filter(source="admin").count() == 1


# --------------------------------------------------------------------------- Stripe errors


def test_stripe_failure_is_an_error_message_not_a_500(stripe_env: FakeStripeServer, client: Client) -> None:
    # given: Stripe answers 500 to every attempt (retries included)
    order = stripe_order(stripe_env)
    stripe_env.faults(fail_next=5, status=500)

    # when
    response = client.post(refund_url(order), {"amount": "1.00", "amount_refunded_before": 0})

    # then
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Stripe failed; nothing was refunded.")
    assert "(payment_provider_error)" in text
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PAID, 0)
    assert order.events.filter(source="admin").count() == 0


def test_stripe_unreachable_is_an_error_message(
    settings: SettingsWrapper, stripe_env: FakeStripeServer, client: Client
) -> None:
    # given
    order = stripe_order(stripe_env)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    # when
    response = client.post(refund_url(order), {"amount": "1.00", "amount_refunded_before": 0})

    # then
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "(payment_provider_unavailable)" in text
    order.refresh_from_db()
    assert order.amount_refunded == 0


def test_stripe_refusal_is_shown_and_nothing_changes(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, client: Client
) -> None:
    # given: the charge was fully refunded in the Stripe dashboard and the webhook is not here yet
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    stripe_client.v1.refunds.create({"payment_intent": order.payment_id})

    # when
    response = client.post(refund_url(order), {"amount": "10.00", "amount_refunded_before": 0})

    # then
    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Stripe refused the refund:")
    assert "(charge_already_refunded)" in text
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PAID, 0)


# --------------------------------------------------------------------------- service rules


@pytest.mark.parametrize("status", [S.PENDING, S.FAILED, S.EXPIRED, S.CANCELLED, S.REFUNDED])
def test_only_paid_or_partially_refunded_orders_can_be_refunded(status: str, refunder: User) -> None:
    # given
    order = make_order(status=status, amount_refunded=0)

    # when
    with pytest.raises(ConflictError) as exc:
        order_refund(order_id=order.pk, amount=1, staff_user=refunder)

    # then
    assert exc.value.code == "order_not_refundable"
    order.refresh_from_db()
    assert order.status == status


@pytest.mark.parametrize("amount", [0, -5, 298_001])
def test_service_refuses_amounts_outside_one_to_refundable(amount: int, refunder: User) -> None:
    # given: ₹2,998.00 paid, ₹18.00 refunded → ₹2,980.00 left
    order = make_order(status=S.PARTIALLY_REFUNDED, unit_amount=149_900, quantity=2, amount_refunded=1_800)

    # when
    with pytest.raises(DomainError) as exc:
        order_refund(order_id=order.pk, amount=amount, staff_user=refunder)

    # then
    assert (exc.value.code, exc.value.field) == ("refund_amount_invalid", "amount")
    order.refresh_from_db()
    assert order.amount_refunded == 1_800


def test_service_error_types_are_payment_provider_errors(
    stripe_env: FakeStripeServer, refunder: User
) -> None:
    # given
    order = stripe_order(stripe_env)
    stripe_env.faults(fail_next=5, status=500)

    # when / then
    with pytest.raises(PaymentProviderError):
        order_refund(order_id=order.pk, amount=1, staff_user=refunder)
