"""POST /api/v1/payments/stripe/webhook/: signatures, exactly-once events, handlers, ordering.

Events are the real ones fakestripe emitted for real payments, posted with the test client and a
signature built exactly as Stripe builds it (deterministic, no background delivery).
"""

from __future__ import annotations

import json
import time
from typing import cast
from unittest import mock

import pytest
import stripe
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent
from payments import webhooks
from payments.models import ProviderEvent
from tests.checkout.conftest import (
    CARD_ASYNC,
    CARD_DECLINED,
    CARD_OK,
    WEBHOOK_PATH,
    checkout_url,
    make_cart,
    post_event,
    session_event,
    sign,
    stripe_events,
)
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_order(stripe_env: FakeStripeServer, user: User, auth_client: APIClient) -> Order:
    cart = make_cart(user)
    body = auth_client.post(checkout_url(cart)).json()
    return Order.objects.get(pk=body["order_id"])


def _paid_event(stripe_env: FakeStripeServer, order: Order) -> dict:
    assert stripe_env.pay(cast(str, order.provider_session_id), CARD_OK).status_code == 200
    return session_event(stripe_env, "checkout.session.completed", cast(str, order.provider_session_id))


def test_completed_paid_event_marks_order_paid_once(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    # given
    event = _paid_event(stripe_env, pending_order)

    # when
    response = post_event(api_client, event)

    # then
    assert response.status_code == 200
    assert response.json() == {"received": True}
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status == Order.Status.PAID
    assert order.paid_at is not None
    assert order.payment_id == event["data"]["object"]["payment_intent"]
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.CHECKED_OUT
    assert list(order.events.values_list("from_status", "to_status", "source", "provider_event_id")) == [
        ("pending", "paid", "webhook", event["id"])
    ]
    assert ProviderEvent.objects.get(event_id=event["id"]).processed_at is not None


def test_replayed_event_is_200_duplicate_and_changes_nothing(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    # given
    event = _paid_event(stripe_env, pending_order)
    post_event(api_client, event)

    # when
    response = post_event(api_client, event)

    # then
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": True}
    assert ProviderEvent.objects.count() == 1
    assert OrderEvent.objects.filter(order=pending_order).count() == 1


@pytest.mark.parametrize(
    "header",
    [
        "forged",
        "stale",
        "missing",
        "other-secret",
    ],
)
def test_bad_signature_is_400_and_records_nothing(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order, header: str
) -> None:
    # given
    event = _paid_event(stripe_env, pending_order)
    payload = json.dumps(event).encode()
    headers = {
        "forged": {"HTTP_STRIPE_SIGNATURE": f"t={int(time.time())},v1={'0' * 64}"},
        "stale": {"HTTP_STRIPE_SIGNATURE": sign(payload, timestamp=int(time.time()) - 301)},
        "missing": {},
        "other-secret": {"HTTP_STRIPE_SIGNATURE": sign(payload, secret="whsec_attacker")},
    }[header]

    # when
    # APIClient.generic is typed as APIRequestFactory's (str data); it sends bytes as they are
    response = api_client.generic("POST", WEBHOOK_PATH, payload, content_type="application/json", **headers)  # type: ignore[arg-type]

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert set(response.json()) == {"code", "message", "fields"}
    assert ProviderEvent.objects.count() == 0
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING


def test_body_tampered_after_signing_is_400(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    event = _paid_event(stripe_env, pending_order)
    payload = json.dumps(event).encode()
    header = sign(payload)
    tampered = payload.replace(b'"paid"', b'"PAID"', 1)
    # APIClient.generic is typed as APIRequestFactory's (str data); it sends bytes as they are
    response = api_client.generic(
        "POST",
        WEBHOOK_PATH,
        tampered,  # type: ignore[arg-type]
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400


def test_unknown_event_type_is_200_ignored(stripe_env: FakeStripeServer, api_client: APIClient) -> None:
    event = {"id": "evt_unknown_type", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    response = post_event(api_client, event)
    assert response.status_code == 200
    assert response.json() == {"received": True, "ignored": True}
    assert ProviderEvent.objects.filter(event_id="evt_unknown_type").exists()


def test_event_for_unknown_order_is_200_and_changes_nothing(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    # given: a real paid-session event whose order references are not ours
    event = _paid_event(stripe_env, pending_order)
    event["id"] = "evt_foreign"
    obj = event["data"]["object"]
    obj["client_reference_id"] = "00000000-0000-0000-0000-000000000000"
    obj["metadata"] = {"order_id": "not-a-uuid"}

    # when
    response = post_event(api_client, event)

    # then
    assert response.status_code == 200
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING
    assert OrderEvent.objects.count() == 0


def test_expired_after_paid_changes_nothing(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    # given: paid, then an `expired` for the same session arrives late
    paid = _paid_event(stripe_env, pending_order)
    post_event(api_client, paid)
    late = {
        "id": "evt_late_expired",
        "type": "checkout.session.expired",
        "data": {"object": {**paid["data"]["object"], "status": "expired", "payment_status": "unpaid"}},
    }

    # when
    response = post_event(api_client, late)

    # then
    assert response.status_code == 200
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=pending_order).count() == 1


def test_expired_event_expires_pending_order(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    api_client: APIClient,
    pending_order: Order,
) -> None:
    # given
    stripe_client.v1.checkout.sessions.expire(cast(str, pending_order.provider_session_id))
    event = session_event(
        stripe_env, "checkout.session.expired", cast(str, pending_order.provider_session_id)
    )

    # when
    post_event(api_client, event)

    # then
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.EXPIRED


def test_declined_card_leaves_order_pending_without_events(
    stripe_env: FakeStripeServer, pending_order: Order
) -> None:
    # when
    declined = stripe_env.pay(cast(str, pending_order.provider_session_id), CARD_DECLINED)

    # then
    assert declined.status_code == 402
    assert stripe_events(stripe_env, "checkout.session.completed") == []
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING
    assert OrderEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("outcome", "event_type", "final"),
    [
        ("succeeded", "checkout.session.async_payment_succeeded", Order.Status.PAID),
        ("failed", "checkout.session.async_payment_failed", Order.Status.FAILED),
    ],
)
def test_async_payment_pending_then_settled(
    stripe_env: FakeStripeServer,
    api_client: APIClient,
    pending_order: Order,
    outcome: str,
    event_type: str,
    final: str,
) -> None:
    # given: an async card completes the session unpaid
    stripe_env.pay(cast(str, pending_order.provider_session_id), CARD_ASYNC)
    completed = session_event(
        stripe_env, "checkout.session.completed", cast(str, pending_order.provider_session_id)
    )
    assert post_event(api_client, completed).status_code == 200
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING

    # when
    assert stripe_env.settle(cast(str, pending_order.provider_session_id), outcome).status_code == 200
    settled = session_event(stripe_env, event_type, cast(str, pending_order.provider_session_id))
    assert post_event(api_client, settled).status_code == 200

    # then
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status == final
    assert list(order.events.values_list("from_status", "to_status")) == [("pending", final)]


def test_expired_event_of_a_superseded_session_changes_nothing(
    stripe_env: FakeStripeServer, api_client: APIClient, user: User, auth_client: APIClient
) -> None:
    # given: the cart changed, the old order was cancelled and a new one opened
    from tests.factories import CartItemFactory, ProductFactory

    cart = make_cart(user)
    old = auth_client.post(checkout_url(cart)).json()
    CartItemFactory.create(cart=cart, product=ProductFactory.create())
    new = auth_client.post(checkout_url(cart)).json()
    expired = session_event(stripe_env, "checkout.session.expired", old["session_id"])

    # when
    post_event(api_client, expired)

    # then
    assert Order.objects.get(pk=old["order_id"]).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=new["order_id"]).status == Order.Status.PENDING


def test_charge_refunded_partial_then_full(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    api_client: APIClient,
    pending_order: Order,
) -> None:
    # given
    post_event(api_client, _paid_event(stripe_env, pending_order))
    order = Order.objects.get(pk=pending_order.pk)
    stripe_client.v1.refunds.create({"payment_intent": order.payment_id, "amount": 100})

    # when
    [partial] = stripe_events(stripe_env, "charge.refunded")
    post_event(api_client, partial)

    # then
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 100)

    # when: the rest, then the older event again under a new id (late, out of order)
    stripe_client.v1.refunds.create({"payment_intent": order.payment_id})
    full = stripe_events(stripe_env, "charge.refunded")[-1]
    post_event(api_client, full)
    post_event(api_client, {**partial, "id": "evt_late_partial"})

    # then
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, order.total_amount)
    assert list(order.events.values_list("to_status", flat=True)) == [
        "paid",
        "partially_refunded",
        "refunded",
    ]


def test_handler_error_rolls_back_and_answers_500(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    # given: the database fails inside the handler
    event = _paid_event(stripe_env, pending_order)
    boom = mock.Mock(side_effect=RuntimeError("database went away"))

    # when
    with mock.patch.object(webhooks, "settle_notification", boom):
        response = post_event(api_client, event)

    # then: nothing kept, so Stripe's retry is processed normally
    assert response.status_code == 500
    assert ProviderEvent.objects.count() == 0
    assert post_event(api_client, event).status_code == 200
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PAID


def test_mismatched_amount_does_not_pay_and_is_recorded_once(
    stripe_env: FakeStripeServer, api_client: APIClient, pending_order: Order
) -> None:
    # given
    event = _paid_event(stripe_env, pending_order)
    event["data"]["object"]["amount_total"] = 1

    # when: delivered twice under two ids (e.g. completed + a retry path)
    post_event(api_client, event)
    post_event(api_client, {**event, "id": "evt_again"})

    # then
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status == Order.Status.PENDING
    [note] = order.events.all()
    assert (note.from_status, note.to_status) == ("pending", "pending")
    assert "amount_total 1" in note.message


def test_payment_events_are_logged_with_their_ids(
    stripe_env: FakeStripeServer,
    api_client: APIClient,
    pending_order: Order,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    event = _paid_event(stripe_env, pending_order)

    # when: delivered, then replayed
    with caplog.at_level("INFO", logger="shopapi.payments"):
        post_event(api_client, event)
        post_event(api_client, event)

    # then: one line for the transition and one per delivery, carrying the ids, no secrets
    records = [r for r in caplog.records if r.name == "shopapi.payments"]
    transitions = [r for r in records if getattr(r, "to_status", None) == "paid"]
    # the ids are LogRecord attributes set through `extra=`, unknown to the LogRecord stub
    deliveries = [(r.event_id, r.type, r.outcome) for r in records if hasattr(r, "outcome")]  # type: ignore[attr-defined]
    assert [(r.order_id, r.from_status, r.event_id) for r in transitions] == [  # type: ignore[attr-defined]
        (str(pending_order.pk), "pending", event["id"])
    ]
    assert deliveries == [
        (event["id"], "checkout.session.completed", "processed"),
        (event["id"], "checkout.session.completed", "duplicate"),
    ]
    assert all("whsec_" not in r.getMessage() for r in records)
