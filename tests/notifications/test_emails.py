"""Buyer and account emails through the outbox: content, once per event, retried when the relay fails."""

from __future__ import annotations

import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import User
from catalog.money import format_money
from checkout.models import Order
from checkout.services.transitions import order_transition
from checkout.states import OrderStatus
from notifications.emails import email_queue, email_send
from notifications.models import DeliveryStatus, OutboundEmail
from tests.notifications.conftest import pay, pending_order_for, post_event
from tests.stripe_fixtures import FakeStripeServer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

S = OrderStatus


def test_receipt_lists_lines_and_total_in_text_and_html(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient, api_client: APIClient
) -> None:
    # given
    order = pending_order_for(user, auth_client)
    mail.outbox.clear()

    # when
    post_event(api_client, pay(stripe_env, order))

    # then
    order = Order.objects.get(pk=order.pk)
    (receipt,) = mail.outbox
    assert receipt.to == [user.email]
    assert receipt.subject == f"shopapi: receipt for order {order.number}"
    item = order.items.get()
    assert f"{item.quantity} × {item.name}" in receipt.body
    assert f"Total paid: {format_money(order.total_amount, order.currency)}" in receipt.body
    assert isinstance(receipt, EmailMultiAlternatives)
    html, mimetype = receipt.alternatives[0]
    assert mimetype == "text/html"
    assert order.number in str(html)


def test_a_refund_mails_the_buyer_once(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient, api_client: APIClient
) -> None:
    # given: a paid order
    order = pending_order_for(user, auth_client)
    post_event(api_client, pay(stripe_env, order))
    mail.outbox.clear()

    # when: part of it is refunded
    with transaction.atomic():
        order_transition(
            order_id=order.pk, to_status=S.PARTIALLY_REFUNDED, source="test", amount_refunded=100
        )

    # then
    (refund,) = mail.outbox
    assert refund.subject.startswith("shopapi: refund for order")
    assert f"We have refunded {format_money(100, Order.objects.get(pk=order.pk).currency)}" in refund.body
    assert OutboundEmail.objects.filter(kind="refunded").count() == 1


def test_a_failing_relay_is_retried_and_the_email_sent_once(db: None) -> None:
    # given: a queued email whose first send fails
    with mock.patch.object(
        EmailMultiAlternatives, "send", side_effect=smtplib.SMTPServerDisconnected("gone")
    ):
        email = email_queue(kind="account", to="a@example.com", subject="Hello", text="Body with a link")
    email.refresh_from_db()
    assert (email.status, email.attempts) == (DeliveryStatus.PENDING, 1)
    assert "SMTPServerDisconnected" in email.last_error
    assert mail.outbox == []

    # when: it is due again, the job runs twice
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=email.created_at)
    outcomes = [email_send(email_pk=email.pk), email_send(email_pk=email.pk)]

    # then: sent once, and an account email's body (a single-use link) is not kept
    assert outcomes == ["sent", "skipped"]
    assert [m.subject for m in mail.outbox] == ["Hello"]
    email.refresh_from_db()
    assert (email.status, email.text, email.attempts) == (DeliveryStatus.SENT, "", 2)


def test_password_reset_goes_through_the_outbox(user: User, api_client: APIClient) -> None:
    # when
    response = api_client.post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")

    # then
    assert response.status_code == 202
    (row,) = OutboundEmail.objects.all()
    assert (row.kind, row.to, row.status) == ("account", user.email, DeliveryStatus.SENT)
    assert [m.to for m in mail.outbox] == [[user.email]]
