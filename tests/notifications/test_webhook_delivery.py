"""Delivering webhooks: signatures, retries with backoff, 24 h then failed, SSRF, redirects, resend."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from checkout.models import Order
from notifications import webhooks
from notifications.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
from notifications.signing import signature_header, signature_verify
from notifications.transport import UnsafeTarget, target_resolve
from notifications.webhooks import backoff, delivery_resend, endpoint_rotate_secret, webhook_deliver
from tests.checkout.backoffice import make_order
from tests.notifications.conftest import Receiver, endpoint_for

pytestmark = pytest.mark.django_db


def make_delivery(endpoint: WebhookEndpoint, *, body: str = '{"id":"evt_1"}') -> WebhookDelivery:
    order: Order = make_order()
    event = OutboxEvent.objects.create(
        public_id=OutboxEvent.new_public_id(),
        type="order.paid",
        order=order,
        body=body,
        dispatched_at=timezone.now(),
    )
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())


def due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


# --------------------------------------------------------------------------- signatures


def test_signature_verifies_only_the_exact_body_and_secret_and_a_fresh_timestamp() -> None:
    # given
    header = signature_header(secrets_=["whsec_a"], body=b'{"x":1}')

    # then
    assert signature_verify(header=header, body=b'{"x":1}', secret="whsec_a")
    assert not signature_verify(header=header, body=b'{"x":2}', secret="whsec_a")
    assert not signature_verify(header=header, body=b'{"x":1}', secret="whsec_b")
    old = signature_header(secrets_=["whsec_a"], body=b"{}", timestamp=int(time.time()) - 301)
    assert not signature_verify(header=old, body=b"{}", secret="whsec_a")
    assert not signature_verify(header="v1=abc", body=b"{}", secret="whsec_a")


def test_rotation_signs_with_both_secrets_for_24_hours(receiver: Receiver, endpoint: WebhookEndpoint) -> None:
    # given
    old_secret = endpoint.secret
    new_secret = endpoint_rotate_secret(endpoint_pk=endpoint.pk)
    receiver.secrets[:] = [new_secret]

    # when
    webhook_deliver(delivery_pk=make_delivery(endpoint).pk)

    # then: two v1 values, each secret verifies
    sent = receiver.received[-1]
    header = sent.headers["Shopapi-Signature"]
    assert header.count("v1=") == 2
    assert signature_verify(header=header, body=sent.body, secret=old_secret)
    assert signature_verify(header=header, body=sent.body, secret=new_secret)

    # when: the grace period is over
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    webhook_deliver(delivery_pk=make_delivery(WebhookEndpoint.objects.get(pk=endpoint.pk)).pk)

    # then
    header = receiver.received[-1].headers["Shopapi-Signature"]
    assert header.count("v1=") == 1
    assert not signature_verify(header=header, body=receiver.received[-1].body, secret=old_secret)


# --------------------------------------------------------------------------- retries


def test_three_500s_then_200_is_four_attempts_and_delivered(
    receiver: Receiver, endpoint: WebhookEndpoint
) -> None:
    # given
    receiver.script = [500, 500, 500]
    delivery = make_delivery(endpoint)

    # when
    outcomes = []
    for _ in range(4):
        outcomes.append(webhook_deliver(delivery_pk=delivery.pk))
        due(delivery)

    # then
    delivery.refresh_from_db()
    assert outcomes == ["retry", "retry", "retry", "delivered"]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        4,
        200,
    )
    assert len(receiver.verified()) == 4
    assert {r.body for r in receiver.received} == {b'{"id":"evt_1"}'}
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_retry_waits_for_its_backoff(receiver: Receiver, endpoint: WebhookEndpoint) -> None:
    # given: a first attempt that failed
    receiver.script = [503]
    delivery = make_delivery(endpoint)
    assert webhook_deliver(delivery_pk=delivery.pk) == "retry"
    delivery.refresh_from_db()

    # when: the job runs again before it is due
    outcome = webhook_deliver(delivery_pk=delivery.pk)

    # then
    assert outcome == "skipped"
    assert delivery.next_attempt_at > timezone.now()
    assert (delivery.last_status_code, delivery.last_response, delivery.last_error) == (
        503,
        "answer 503",
        "HTTP 503",
    )
    assert len(receiver.received) == 1


def test_backoff_grows_exponentially_with_jitter(settings: SettingsWrapper) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    for attempts, base in [(1, 10), (2, 20), (5, 160)]:
        waits = {backoff(attempts).total_seconds() for _ in range(20)}
        assert all(base * 0.5 <= w <= base * 1.5 for w in waits)
        assert len(waits) > 1  # jittered
    assert backoff(40) == webhooks.MAX_BACKOFF


def test_after_24_hours_of_failures_the_delivery_fails_and_the_endpoint_is_disabled(
    receiver: Receiver, endpoint: WebhookEndpoint
) -> None:
    # given: a delivery created 24 h ago to an endpoint failing since then
    receiver.script = [500] * 5
    delivery = make_delivery(endpoint)
    day_ago = timezone.now() - timedelta(hours=24, minutes=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=day_ago)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=day_ago)
    later = make_delivery(endpoint)

    # when
    outcome = webhook_deliver(delivery_pk=delivery.pk)

    # then
    endpoint.refresh_from_db()
    assert outcome == "failed"
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED
    assert not endpoint.active
    assert "no successful delivery for 24 h" in endpoint.disabled_reason
    assert "HTTP 500" in endpoint.disabled_reason
    # and what was still owed to it is failed without a request
    assert webhook_deliver(delivery_pk=later.pk) == "failed"
    assert len(receiver.received) == 1


def test_a_timeout_is_retried(
    receiver: Receiver, endpoint: WebhookEndpoint, settings: SettingsWrapper
) -> None:
    # given
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    delivery = make_delivery(endpoint)

    # when
    outcome = webhook_deliver(delivery_pk=delivery.pk)

    # then
    delivery.refresh_from_db()
    assert outcome == "retry"
    assert "timed out" in delivery.last_error
    assert delivery.last_status_code is None


def test_redirects_are_not_followed(receiver: Receiver, endpoint: WebhookEndpoint) -> None:
    # given
    receiver.script = [302]
    delivery = make_delivery(endpoint)

    # when
    outcome = webhook_deliver(delivery_pk=delivery.pk)

    # then: one request, to the endpoint only; the 302 is a failure to retry
    assert outcome == "retry"
    assert [r.path for r in receiver.received] == ["/hooks/shop"]
    assert WebhookDelivery.objects.get(pk=delivery.pk).last_error == "HTTP 302"


def test_resend_delivers_again(
    receiver: Receiver, endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a delivered delivery
    delivery = make_delivery(endpoint)
    webhook_deliver(delivery_pk=delivery.pk)

    # when: staff resend it (the job runs eagerly once the transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_resend(delivery_pk=delivery.pk)

    # then
    assert len(receiver.received) == 2
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2


def test_resend_to_a_disabled_endpoint_is_refused(receiver: Receiver, endpoint: WebhookEndpoint) -> None:
    delivery = make_delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    assert not delivery_resend(delivery_pk=delivery.pk)
    assert receiver.received == []


# --------------------------------------------------------------------------- SSRF


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_targets_are_refused(url: str, settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeTarget, match="private address"):
        target_resolve(url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http:///nohost", "http://user:pw@example.com/"])
def test_other_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        target_resolve(url, allow_private=True)


def test_a_public_address_is_allowed(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with mock.patch("socket.getaddrinfo", return_value=[(2, 1, 6, "", ("93.184.215.14", 443))]):
        target = target_resolve("https://hooks.example.com/shop?x=1")
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        443,
        "/shop?x=1",
        "93.184.215.14",
    )


def test_delivery_to_a_private_address_is_refused_without_a_request(
    receiver: Receiver, endpoint: WebhookEndpoint, settings: SettingsWrapper
) -> None:
    # given: private targets are not allowed (the receiver listens on 127.0.0.1)
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    delivery = make_delivery(endpoint)

    # when
    outcome = webhook_deliver(delivery_pk=delivery.pk)

    # then
    assert outcome == "retry"
    assert receiver.received == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).last_error.startswith("refused: 127.0.0.1 resolves")


def test_a_dns_name_resolving_to_a_private_address_is_refused(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with (
        mock.patch("socket.getaddrinfo", return_value=[(2, 1, 6, "", ("10.1.2.3", 443))]),
        pytest.raises(UnsafeTarget, match=r"10\.1\.2\.3"),
    ):
        target_resolve("https://rebind.example.com/")


def test_endpoint_for_helper_is_wired(receiver: Receiver) -> None:
    endpoint = endpoint_for(receiver, description="x")
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.subscribes_to("order.paid")
