"""The provider's limits, checked before it is called: its minimum charge in the account's
settlement currency (converted into the order's), and the number of lines one payment can hold."""

from __future__ import annotations

import pytest
import stripe
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout import pricing
from checkout.models import Order
from tests.checkout.conftest import checkout_url
from tests.factories import CartFactory, CartItemFactory, ProductFactory
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("settlement", "currency", "expected"),
    [
        ("usd", "usd", 50),  # Stripe's own minimum: 0.50 USD
        ("usd", "inr", 4584),  # 0.50 USD / 0.012 USD per rupee × 1.10 = ₹45.84
        ("usd", "jpy", 83),  # zero-decimal: 0.50 / 0.0067 × 1.10 = ¥82.1 → 83
        ("gbp", "gbp", 30),
        ("gbp", "inr", 3493),  # 0.30 GBP × 1.27 / 0.012 × 1.10 = ₹34.93
        ("inr", "inr", 50),  # an Indian account settling rupees: ₹0.50
    ],
)
def test_minimum_charge_converts_the_settlement_minimum(
    settings: SettingsWrapper, settlement: str, currency: str, expected: int
) -> None:
    settings.PAYMENT_SETTLEMENT_CURRENCY = settlement
    settings.MIN_ORDER_AMOUNT = 1  # the conversion alone (the floor has its own test)
    assert pricing.minimum_charge(currency) == expected


def test_minimum_charge_never_goes_below_the_configured_floor(settings: SettingsWrapper) -> None:
    settings.MIN_ORDER_AMOUNT = 10_000
    assert pricing.minimum_charge("usd") == 10_000


def test_a_currency_without_a_rate_falls_back_to_the_floor(
    settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PAYMENT_SETTLEMENT_CURRENCY = "usd"
    assert pricing.minimum_charge("xts") == settings.MIN_ORDER_AMOUNT
    assert "no rate to convert xts to usd" in caplog.text


def _sessions(client: stripe.StripeClient) -> int:
    return len(client.v1.checkout.sessions.list({"limit": 100}).data)


@pytest.mark.parametrize(("total", "status"), [(4583, 400), (4584, 201)])
def test_checkout_below_the_converted_minimum_is_refused_before_the_provider_is_called(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
    total: int,
    status: int,
) -> None:
    # given: an INR shop whose account settles in USD
    settings.PAYMENT_SETTLEMENT_CURRENCY = "usd"
    cart = CartFactory.create(user=user)
    CartItemFactory.create(cart=cart, product=ProductFactory.create(unit_amount=total, currency="inr"))

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == status
    if status == 400:
        assert response.json()["code"] == "order_too_small"
        assert "₹45.84" in response.json()["message"]
        assert (Order.objects.count(), _sessions(stripe_client)) == (0, 0)
    else:
        assert (Order.objects.count(), _sessions(stripe_client)) == (1, 1)


def test_a_new_line_past_the_line_cap_is_a_400_naming_the_product(
    settings: SettingsWrapper, user: User, auth_client: APIClient
) -> None:
    # given: a cart at the cap
    settings.CART_MAX_LINES = 3
    cart = CartFactory.create(user=user)
    lines = [CartItemFactory.create(cart=cart) for _ in range(3)]
    extra = ProductFactory.create()

    # when
    refused = auth_client.post(f"/api/v1/carts/{cart.pk}/items/", {"product_id": extra.pk, "quantity": 1})
    more_of_a_line = auth_client.post(
        f"/api/v1/carts/{cart.pk}/items/", {"product_id": lines[0].product_id, "quantity": 1}
    )

    # then
    assert refused.status_code == 400
    assert refused.json()["code"] == "cart_too_many_lines"
    assert list(refused.json()["fields"]) == ["product_id"]
    assert more_of_a_line.status_code == 201
    assert cart.items.count() == 3


def test_checkout_of_a_cart_past_the_line_cap_is_refused_without_calling_the_provider(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
) -> None:
    # given: 101 lines (added before the cap was lowered, or by staff)
    cart = CartFactory.create(user=user)
    for _ in range(101):
        CartItemFactory.create(cart=cart, product=ProductFactory.create(unit_amount=10_000))

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "cart_too_many_lines"
    assert (Order.objects.count(), _sessions(stripe_client)) == (0, 0)
