"""The integrations back-office: endpoints (secret shown once, SSRF refused, rotation), deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from notifications.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.checkout.backoffice import admin_client_for, make_order, staff_user
from tests.notifications.conftest import Receiver, endpoint_for

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/notifications/webhookendpoint/"
# The deliveries inline's management form, which every endpoint form post carries.
INLINE = {"deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}
DELIVERIES = "/admin/notifications/webhookdelivery/"


@pytest.fixture
def client() -> Client:
    return admin_client_for(staff_user(superuser=True))


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_adding_an_endpoint_shows_its_secret_once(client: Client, settings: SettingsWrapper) -> None:
    # given
    settings.WEBHOOKS_ALLOW_PRIVATE = True

    # when
    response = client.post(
        f"{ENDPOINTS}add/",
        {
            "url": "http://127.0.0.1:9/hook",
            "description": "ERP",
            "event_types": ["order.paid"],
            "active": "on",
            **INLINE,
        },
        follow=True,
    )

    # then
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.event_types == ["order.paid"]
    assert any(endpoint.secret in m and "not shown again" in m for m in messages_of(response))
    change_page = client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in change_page


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://10.0.0.1/hook"])
def test_a_private_url_is_refused_by_the_form(client: Client, settings: SettingsWrapper, url: str) -> None:
    # given
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    # when
    response = client.post(f"{ENDPOINTS}add/", {"url": url, "active": "on", **INLINE})

    # then
    assert response.status_code == 200
    assert "resolves to a private address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotation_shows_the_new_secret_and_keeps_the_old_for_a_day(
    client: Client, receiver: Receiver
) -> None:
    # given
    endpoint = endpoint_for(receiver)
    old = endpoint.secret

    # when
    response = client.post(
        ENDPOINTS, {"action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True
    )

    # then
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at is not None
    assert endpoint.previous_secret_expires_at > timezone.now() + timedelta(hours=23)
    assert any(endpoint.secret in m for m in messages_of(response))


def test_deliveries_list_status_attempts_and_answer_and_resend(
    client: Client, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a delivery that failed with a long answer
    endpoint = endpoint_for(receiver)
    event = OutboxEvent.objects.create(
        public_id="evt_admin",
        type="order.paid",
        order=make_order(),
        body='{"id":"evt_admin"}',
        dispatched_at=timezone.now(),
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, status=DeliveryStatus.FAILED, attempts=7, last_status_code=500,
        last_response="x" * 900, next_attempt_at=timezone.now(),
    )  # fmt: skip

    # when
    page = client.get(DELIVERIES).content.decode()

    # then
    assert "evt_admin" in page
    assert "order.paid" in page
    assert "x" * 80 + "…" in page
    endpoint_page = client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert "evt_admin" in endpoint_page
    assert "x" * 80 + "…" in endpoint_page

    # when: staff resend it
    with django_capture_on_commit_callbacks(execute=True):
        client.post(DELIVERIES, {"action": "resend", "_selected_action": [delivery.pk]})

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 8)
    assert receiver.ids() == ["evt_admin"]


def test_turning_a_disabled_endpoint_back_on_clears_its_failure(client: Client, receiver: Receiver) -> None:
    # given
    endpoint = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, failing_since=timezone.now(), disabled_reason="disabled: HTTP 500"
    )

    # when
    client.post(f"{ENDPOINTS}{endpoint.pk}/change/", {"url": endpoint.url, "active": "on", **INLINE})

    # then
    endpoint.refresh_from_db()
    assert endpoint.active
    assert (endpoint.failing_since, endpoint.disabled_reason) == (None, "")


def test_staff_without_permission_cannot_see_deliveries() -> None:
    client = admin_client_for(staff_user())
    assert client.get(DELIVERIES).status_code == 403
