"""GET /api/v1/shipping-methods/: public, active only, by position, filtered by country."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from checkout.demo import demo_shipping_ensure
from checkout.models import ShippingMethod

pytestmark = pytest.mark.django_db

URL = "/api/v1/shipping-methods/"


@pytest.fixture
def methods() -> dict[str, ShippingMethod]:
    return {
        "express": ShippingMethod.objects.create(
            name="Express",
            amount=15_000,
            currency="inr",
            countries=["IN"],
            min_days=1,
            max_days=2,
            position=2,
        ),
        "standard": ShippingMethod.objects.create(name="Standard", amount=5_000, currency="inr", position=1),
        "us": ShippingMethod.objects.create(
            name="USPS", amount=900, currency="usd", countries=["US"], position=3
        ),
        "retired": ShippingMethod.objects.create(name="Retired", amount=1, currency="inr", active=False),
    }


def test_lists_active_methods_by_position_without_authentication(
    api_client: APIClient, methods: dict[str, ShippingMethod]
) -> None:
    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 200
    assert [m["name"] for m in response.json()] == ["Standard", "Express", "USPS"]
    assert response.json()[1] == {
        "id": methods["express"].pk,
        "name": "Express",
        "amount": 15_000,
        "currency": "inr",
        "countries": ["IN"],
        "min_days": 1,
        "max_days": 2,
    }


@pytest.mark.parametrize(
    ("country", "names"), [("IN", ["Standard", "Express"]), ("us", ["Standard", "USPS"])]
)
def test_country_keeps_the_methods_that_ship_there(
    api_client: APIClient, methods: dict[str, ShippingMethod], country: str, names: list[str]
) -> None:
    response = api_client.get(URL, {"country": country})
    assert [m["name"] for m in response.json()] == names


@pytest.mark.parametrize("country", ["IND", "1N", "I"])
def test_a_malformed_country_is_400_naming_it(api_client: APIClient, country: str) -> None:
    response = api_client.get(URL, {"country": country})
    assert response.status_code == 400
    assert "country" in response.json()["fields"]


def test_the_demo_methods_are_seeded_once_and_listed(api_client: APIClient) -> None:
    # given: staff renamed nothing, changed Express's price
    assert demo_shipping_ensure() == 2
    ShippingMethod.objects.filter(name="Express").update(amount=1)

    # when: seeded again (make run does it on every start)
    again = demo_shipping_ensure()

    # then
    assert again == 0
    assert [(m["name"], m["amount"]) for m in api_client.get(URL).json()] == [
        ("Standard", 4_900),
        ("Express", 1),
    ]
