"""The outbox: one event per order change, written in its transaction, dispatched once, swept when lost.

Jobs run eagerly here (no REDIS_URL): after the commit, in the test's process. The tests are
`transaction=True`, so commits (and the on-commit enqueueing) happen for real.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Order
from checkout.services.transitions import order_transition
from checkout.states import OrderNotice, OrderStatus, order_notice
from notifications import jobs
from notifications.models import DeliveryStatus, OutboundEmail, OutboxEvent, WebhookDelivery
from notifications.outbox import outbox_dispatch, outbox_sweep
from tests.notifications.conftest import Receiver, endpoint_for, pay, pending_order_for, post_event
from tests.stripe_fixtures import FakeStripeServer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

S = OrderStatus


def test_paid_order_gives_one_delivery_per_subscribed_endpoint_and_one_receipt_despite_replays(
    stripe_env: FakeStripeServer,
    receiver: Receiver,
    user: User,
    auth_client: APIClient,
    api_client: APIClient,
) -> None:
    # given: two endpoints that want order.paid (one by listing it, one by listing nothing) and
    # one that only wants refunds
    all_types = endpoint_for(receiver)
    paid_only = endpoint_for(receiver, event_types=["order.paid"])
    endpoint_for(receiver, event_types=["order.refunded"])
    order = pending_order_for(user, auth_client)
    event = pay(stripe_env, order)
    mail.outbox.clear()

    # when: the webhook arrives 11 times and the success page confirms 50 times
    for _ in range(11):
        assert post_event(api_client, event).status_code == 200
    for _ in range(50):
        answer = auth_client.post(
            "/api/v1/orders/confirm/", {"session_id": order.provider_session_id}, format="json"
        )
        assert answer.status_code == 200

    # then
    assert Order.objects.get(pk=order.pk).status == S.PAID
    events = list(OutboxEvent.objects.filter(order=order))
    assert [e.type for e in events] == ["order.paid"]
    deliveries = WebhookDelivery.objects.filter(event=events[0])
    assert sorted(d.endpoint_id for d in deliveries) == sorted([all_types.pk, paid_only.pk])
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    assert sorted(receiver.ids()) == [events[0].public_id] * 2
    body = receiver.received[0].json
    assert body["type"] == "order.paid"
    assert body["data"]["object"]["id"] == str(order.pk)
    assert body["data"]["object"]["status"] == "paid"
    assert body["data"]["object"]["order_token"] is None
    receipts = [m for m in mail.outbox if "receipt" in m.subject]
    assert len(receipts) == 1
    assert receipts[0].to == [user.email]
    assert OutboundEmail.objects.get(event=events[0]).status == DeliveryStatus.SENT


def test_the_body_is_the_order_as_the_api_shows_it(
    stripe_env: FakeStripeServer,
    receiver: Receiver,
    user: User,
    auth_client: APIClient,
    api_client: APIClient,
) -> None:
    # given
    endpoint_for(receiver)
    order = pending_order_for(user, auth_client)

    # when
    post_event(api_client, pay(stripe_env, order))

    # then: the same keys and values as GET /orders/{id}/ (token aside)
    api = auth_client.get(f"/api/v1/orders/{order.pk}/").json()
    sent = receiver.received[0].json
    assert set(sent) == {"id", "type", "created", "data"}
    assert sent["id"].startswith("evt_")
    assert isinstance(sent["created"], int)
    assert sent["data"]["object"] == {**api, "order_token": None}


def test_a_rolled_back_change_leaves_no_event(
    stripe_env: FakeStripeServer, receiver: Receiver, user: User, auth_client: APIClient
) -> None:
    # given
    endpoint_for(receiver)
    order = pending_order_for(user, auth_client)

    # when: the transition happens, then its transaction fails
    def cancel_then_fail() -> None:
        with transaction.atomic():
            order_transition(order_id=order.pk, to_status=S.CANCELLED, source="test")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cancel_then_fail()

    # then
    assert not OutboxEvent.objects.exists()
    assert receiver.received == []


@pytest.mark.parametrize(
    ("to", "event_type"),
    [(S.CANCELLED, "order.cancelled"), (S.EXPIRED, "order.expired"), (S.FAILED, "order.failed")],
)
def test_each_closing_transition_is_announced(
    stripe_env: FakeStripeServer,
    receiver: Receiver,
    user: User,
    auth_client: APIClient,
    to: str,
    event_type: str,
) -> None:
    # given
    endpoint_for(receiver)
    order = pending_order_for(user, auth_client)

    # when
    with transaction.atomic():
        order_transition(order_id=order.pk, to_status=to, source="test")

    # then
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == [event_type]
    assert [r.json["type"] for r in receiver.verified()] == [event_type]


def test_a_refund_that_fails_back_to_paid_is_not_a_new_payment(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient, api_client: APIClient
) -> None:
    # given: a paid, then refunded order
    order = pending_order_for(user, auth_client)
    post_event(api_client, pay(stripe_env, order))
    Order.objects.filter(pk=order.pk).update(status=S.REFUNDED)

    # when: the refund fails after all
    with transaction.atomic():
        order_transition(order_id=order.pk, to_status=S.PAID, source="test")

    # then: only the first payment was announced
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == ["order.paid"]


def test_oversold_notice_is_announced(
    stripe_env: FakeStripeServer, receiver: Receiver, user: User, auth_client: APIClient
) -> None:
    # given
    endpoint_for(receiver, event_types=["order.oversold"])
    order = pending_order_for(user, auth_client)

    # when
    with transaction.atomic():
        order_notice(OrderNotice(order_id=order.pk, kind="oversold"))

    # then
    assert [r.json["type"] for r in receiver.verified()] == ["order.oversold"]


def test_dispatching_twice_creates_nothing_twice(
    stripe_env: FakeStripeServer,
    receiver: Receiver,
    user: User,
    auth_client: APIClient,
    api_client: APIClient,
) -> None:
    # given: the event was committed but its job never ran (enqueueing failed)
    endpoint_for(receiver)
    order = pending_order_for(user, auth_client)
    with mock.patch.object(jobs, "enqueue", return_value=False):
        post_event(api_client, pay(stripe_env, order))
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None
    assert receiver.received == []

    # when
    with mock.patch.object(jobs, "enqueue", return_value=False):
        first, second = outbox_dispatch(event_pk=event.pk), outbox_dispatch(event_pk=event.pk)

    # then
    assert (first, second) == (True, False)
    assert WebhookDelivery.objects.count() == 1
    assert OutboundEmail.objects.count() == 1


def test_the_sweep_sends_what_a_crash_left_behind_exactly_once(
    stripe_env: FakeStripeServer,
    receiver: Receiver,
    user: User,
    auth_client: APIClient,
    api_client: APIClient,
) -> None:
    # given: three paid orders whose dispatch jobs were lost between commit and enqueue
    endpoint_for(receiver)
    with mock.patch.object(jobs, "enqueue", return_value=False):
        for _ in range(3):
            post_event(api_client, pay(stripe_env, pending_order_for(user, auth_client)))
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert receiver.received == []
    assert len(mail.outbox) == 0

    # when: the sweep runs twice
    outbox_sweep()
    outbox_sweep()

    # then
    assert sorted(receiver.ids()) == sorted(OutboxEvent.objects.values_list("public_id", flat=True))
    assert len(receiver.received) == 3
    assert len([m for m in mail.outbox if "receipt" in m.subject]) == 3
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_a_broker_that_is_down_does_not_fail_the_request(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient, api_client: APIClient
) -> None:
    # given
    order = pending_order_for(user, auth_client)
    from kombu.exceptions import OperationalError

    # when: publishing raises
    with mock.patch("celery.app.task.Task.apply_async", side_effect=OperationalError("redis down")):
        response = post_event(api_client, pay(stripe_env, order))

    # then: the payment is recorded, the event waits in the outbox
    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status == S.PAID
    assert OutboxEvent.objects.get().dispatched_at is None


def test_a_shipment_sends_order_shipped_and_a_tracking_email_once(
    stripe_env: FakeStripeServer,
    receiver: Receiver,
    user: User,
    auth_client: APIClient,
    api_client: APIClient,
) -> None:
    # given: a paid order and an endpoint that wants shipments
    from checkout.services.fulfilment import shipment_create

    endpoint_for(receiver, event_types=["order.shipped"])
    order = pending_order_for(user, auth_client)
    post_event(api_client, pay(stripe_env, order))
    mail.outbox.clear()

    # when: staff mark it shipped
    shipment = shipment_create(
        order_id=order.pk,
        carrier="DHL",
        tracking_number="JD0146",
        tracking_url="https://track.example/JD0146",
    )

    # then: one webhook with the shipment in the order, one email with the tracking link
    (sent,) = receiver.verified()
    assert sent.json["type"] == "order.shipped"
    shipments = sent.json["data"]["object"]["shipments"]
    assert [s["tracking_number"] for s in shipments] == ["JD0146"]
    assert sent.json["data"]["object"]["fulfilment_status"] == "fulfilled"
    (email,) = mail.outbox
    assert email.subject == f"shopapi: order {Order.objects.get(pk=order.pk).number} has shipped"
    assert "Tracking number: JD0146" in email.body
    assert "https://track.example/JD0146" in email.body
    assert OutboxEvent.objects.get(type="order.shipped").object_id == str(shipment.pk)
