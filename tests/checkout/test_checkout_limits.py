"""Checkout rate limits: ours per user and per client address, and Stripe's own 429."""

from __future__ import annotations

import uuid

import pytest
from pytest_django.fixtures import SettingsWrapper

from accounts.models import User
from tests.checkout.conftest import checkout_url, make_cart
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.stripe_fixtures import FakeStripeServer
from tests.throttle_rates import set_throttle_rates

pytestmark = pytest.mark.django_db


def test_checkout_is_throttled_per_user_whatever_the_address(settings: SettingsWrapper, user: User) -> None:
    # given
    set_throttle_rates(settings, checkout="2/min", checkout_address="100/min")
    client = client_for(user)
    url = f"/api/v1/carts/{uuid.uuid4()}/checkout/"  # the throttle answers before the cart is read

    # when
    statuses = [client.post(url, REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(3)]

    # then
    assert statuses == [404, 404, 429]
    throttled = client.post(url, REMOTE_ADDR="198.51.100.99")
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    # another customer is not held up
    assert client_for(UserFactory.create()).post(url, REMOTE_ADDR="198.51.100.1").status_code == 404


def test_checkout_is_throttled_per_address_across_accounts(settings: SettingsWrapper) -> None:
    # given
    set_throttle_rates(settings, checkout="100/min", checkout_address="2/min")
    url = f"/api/v1/carts/{uuid.uuid4()}/checkout/"

    # when: a new account each time, one address, a different X-Forwarded-For each time
    statuses = [
        client_for(UserFactory.create())
        .post(url, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        .status_code
        for i in range(3)
    ]

    # then
    assert statuses == [404, 404, 429]


def test_stripe_rate_limit_is_503_with_retry_after(stripe_env: FakeStripeServer, user: User) -> None:
    # given: Stripe answers 429 (more often than the SDK's one retry)
    cart = make_cart(user)
    stripe_env.faults(fail_next=2, status=429)

    # when
    response = client_for(user).post(checkout_url(cart))

    # then
    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert int(response["Retry-After"]) > 0
