"""Shipping, promotion codes and tax at checkout, through the real SDK against fakestripe.

A purchase with an address, a chosen method, a 10 % code and automatic tax stores exactly what the
session reports; a session whose amounts do not add up to the order is refused and logged; a
digital-only cart collects no address; the reuse fingerprint covers what changes the amount.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
import requests
import stripe
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent, ShippingMethod
from tests.checkout.conftest import CARD_OK, checkout_url, make_cart, post_event, session_event
from tests.factories import CartFactory, CartItemFactory, ProductFactory, default_variant_of
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
ADDRESS = {
    "name": "Asha Rao",
    "line1": "12 MG Road",
    "line2": "Flat 4",
    "city": "Bengaluru",
    "state": "KA",
    "postal_code": "560001",
    "country": "IN",
}


@pytest.fixture
def shop(settings: SettingsWrapper, stripe_env: FakeStripeServer) -> FakeStripeServer:
    """Ships to India and the US, takes promotion codes, computes tax; two methods in INR."""
    settings.SHIPPING_COUNTRIES = ["IN", "US"]
    settings.ALLOW_PROMOTION_CODES = True
    settings.AUTOMATIC_TAX = True
    ShippingMethod.objects.create(name="Standard", amount=5_000, currency="inr", min_days=3, max_days=5)
    ShippingMethod.objects.create(
        name="Express", amount=15_000, currency="inr", min_days=1, max_days=2, position=1, countries=["IN"]
    )
    ShippingMethod.objects.create(name="Retired", amount=1, currency="inr", active=False)
    ShippingMethod.objects.create(name="Dollars", amount=900, currency="usd")
    return stripe_env


def control(fake: FakeStripeServer, path: str, **data: Any) -> requests.Response:
    return requests.post(f"{fake.base_url}/_fake/{path}", data=data, timeout=30)


def stripe_session(client: stripe.StripeClient, session_id: str) -> dict[str, Any]:
    return client.v1.checkout.sessions.retrieve(session_id).to_dict()


def checkout(auth_client: APIClient, cart: Cart) -> Order:
    response = auth_client.post(checkout_url(cart))
    assert response.status_code in (200, 201), response.content
    return Order.objects.get(pk=response.json()["order_id"])


def express_rate(client: stripe.StripeClient, session_id: str) -> str:
    session = stripe_session(client, session_id)
    rates = [client.v1.shipping_rates.retrieve(o["shipping_rate"]) for o in session["shipping_options"]]
    return next(rate.id for rate in rates if rate.display_name == "Express")


def test_a_purchase_with_address_method_code_and_tax_stores_the_sessions_amounts_exactly(
    shop: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: 2 x 1,499.00 INR, a 10 % code
    assert control(shop, "promotion_codes", code="TENOFF", percent_off=10).status_code == 200
    order = checkout(auth_client, make_cart(user, quantity=2, unit_amount=149_900))
    session_id = cast(str, order.provider_session_id)
    created = stripe_session(stripe_client, session_id)
    assert created["shipping_address_collection"] == {"allowed_countries": ["IN", "US"]}
    assert [o["shipping_amount"] for o in created["shipping_options"]] == [5_000, 15_000]
    assert created["allow_promotion_codes"] is True
    assert created["automatic_tax"]["enabled"] is True
    assert (order.status, order.subtotal_amount, order.total_amount) == ("pending", 299_800, 299_800)

    # when: the buyer pays with an address, Express and the code; the success page confirms
    paid = control(
        shop,
        f"checkout/sessions/{session_id}/pay",
        card=CARD_OK,
        shipping_rate=express_rate(stripe_client, session_id),
        promotion_code="tenoff",
        **ADDRESS,
    )
    assert paid.status_code == 200, paid.text
    confirmed = auth_client.post(f"{ORDERS}confirm/", {"session_id": session_id})

    # then: the order holds the session's amounts to the paisa, the method and the address
    assert confirmed.status_code == 200, confirmed.content
    session = stripe_session(stripe_client, session_id)
    totals = session["total_details"]
    assert totals == {"amount_discount": 29_980, "amount_shipping": 15_000, "amount_tax": 14_241}
    assert session["amount_total"] == 299_800 - 29_980 + 15_000 + 14_241
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert (
        order.total_amount,
        order.subtotal_amount,
        order.shipping_amount,
        order.discount_amount,
        order.tax_amount,
    ) == (
        session["amount_total"],
        session["amount_subtotal"],
        totals["amount_shipping"],
        totals["amount_discount"],
        totals["amount_tax"],
    )
    express = ShippingMethod.objects.get(name="Express")
    assert (order.shipping_method_id, order.shipping_method_name) == (express.pk, "Express")
    assert order.shipping_rate_id == session["shipping_cost"]["shipping_rate"]
    body = auth_client.get(f"{ORDERS}{order.pk}/").json()
    assert body["shipping"] == {"method": {"id": express.pk, "name": "Express"}, "address": ADDRESS}
    assert {
        key: body[key] for key in ("subtotal_amount", "shipping_amount", "discount_amount", "tax_amount")
    } == {
        "subtotal_amount": 299_800,
        "shipping_amount": 15_000,
        "discount_amount": 29_980,
        "tax_amount": 14_241,
    }
    assert body["total_amount"] == session["amount_total"]
    assert (body["fulfilment_status"], body["shipments"]) == ("unfulfilled", [])


def test_the_webhook_maps_the_chosen_rate_back_to_the_method(
    shop: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: paid with the default (first) option and no code; the event names the rate by id only
    order = checkout(auth_client, make_cart(user))
    session_id = cast(str, order.provider_session_id)
    assert control(shop, f"checkout/sessions/{session_id}/pay", card=CARD_OK, **ADDRESS).status_code == 200
    event = session_event(shop, "checkout.session.completed", session_id)
    assert isinstance(event["data"]["object"]["shipping_cost"]["shipping_rate"], str)

    # when
    response = post_event(APIClient(), event)

    # then
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.shipping_method == ShippingMethod.objects.get(name="Standard")
    assert (order.shipping_amount, order.tax_amount) == (5_000, (149_900 + 5_000) * 5 // 100 + 0)
    assert order.total_amount == 149_900 + 5_000 + order.tax_amount
    assert order.shipping_address == ADDRESS


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ({"amount_total": 1}, "amount_total 1 != subtotal + shipping - discount + tax"),
        ({"amount_subtotal": 1_000, "amount_total": 1_000}, "amount_subtotal 1000 != order subtotal 149900"),
        ({"currency": "usd"}, "currency 'usd' != order currency 'inr'"),
        (
            {"amount_shipping": 0, "amount_total": 149_900},
            "amount_shipping 0 is not the chosen shipping option's",
        ),
        ({"amount_discount": 200_000}, "amount_discount 200000 > subtotal 149900"),
    ],
    ids=["total", "subtotal", "currency", "shipping", "discount"],
)
def test_a_session_that_does_not_add_up_is_refused_logged_and_the_order_stays_pending(
    shop: FakeStripeServer,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
    caplog: pytest.LogCaptureFixture,
    tamper: dict[str, Any],
    problem: str,
) -> None:
    # given: a paid session whose reported amounts were changed
    settings.AUTOMATIC_TAX = False
    order = checkout(auth_client, make_cart(user))
    session_id = cast(str, order.provider_session_id)
    assert control(shop, f"checkout/sessions/{session_id}/tamper", **tamper).status_code == 200
    assert control(shop, f"checkout/sessions/{session_id}/pay", card=CARD_OK, **ADDRESS).status_code == 200

    # when
    with caplog.at_level(logging.ERROR, logger="checkout.services.settlement"):
        auth_client.post(f"{ORDERS}confirm/", {"session_id": session_id})

    # then
    order.refresh_from_db()
    assert (order.status, order.total_amount, order.shipping_address) == ("pending", 149_900, None)
    [note] = OrderEvent.objects.filter(order=order, message__contains="does not match")
    assert problem in note.message
    assert any(problem in record.getMessage() for record in caplog.records)


def test_a_method_that_does_not_serve_the_address_is_noted_for_staff(
    shop: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: Express serves India only; the buyer picks it with a US address
    order = checkout(auth_client, make_cart(user))
    session_id = cast(str, order.provider_session_id)
    rate = express_rate(stripe_client, session_id)
    us = {**ADDRESS, "country": "US", "state": "NY"}
    assert control(shop, f"checkout/sessions/{session_id}/pay", card=CARD_OK, shipping_rate=rate, **us).ok

    # when
    auth_client.post(f"{ORDERS}confirm/", {"session_id": session_id})

    # then: paid (the money is taken), with a note in its history
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    [note] = OrderEvent.objects.filter(order=order, message__contains="does not serve")
    assert (note.from_status, note.to_status) == ("paid", "paid")
    assert note.message == "shipping method 'Express' does not serve US: check before shipping"


def test_a_digital_only_cart_checks_out_without_an_address(
    shop: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: an e-book (product), and a licence variant of a shipping product
    cart = CartFactory.create(user=user)
    ebook = ProductFactory.create(unit_amount=49_900, requires_shipping=False)
    CartItemFactory.create(cart=cart, product=ebook, quantity=1)
    boxed = ProductFactory.create(unit_amount=10_000)
    licence = default_variant_of(boxed)
    licence.requires_shipping = False
    licence.save()
    CartItemFactory.create(cart=cart, product=boxed, variant=licence, quantity=1)

    # when
    order = checkout(auth_client, cart)
    session_id = cast(str, order.provider_session_id)
    paid = control(shop, f"checkout/sessions/{session_id}/pay", card=CARD_OK)
    auth_client.post(f"{ORDERS}confirm/", {"session_id": session_id})

    # then
    session = stripe_session(stripe_client, session_id)
    assert paid.status_code == 200
    assert (session["shipping_address_collection"], session["shipping_options"]) == (None, [])
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert (order.shipping_amount, order.shipping_method_id, order.shipping_address) == (0, None, None)
    assert auth_client.get(f"{ORDERS}{order.pk}/").json()["shipping"] is None


def test_one_shipping_line_makes_the_cart_collect_an_address(
    shop: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: a digital product whose one variant overrides it to ship
    cart = CartFactory.create(user=user)
    product = ProductFactory.create(unit_amount=10_000, requires_shipping=False)
    variant = default_variant_of(product)
    variant.requires_shipping = True
    variant.save()
    CartItemFactory.create(cart=cart, product=product, variant=variant, quantity=1)

    # when
    order = checkout(auth_client, cart)
    refused = control(shop, f"checkout/sessions/{order.provider_session_id}/pay", card=CARD_OK)

    # then: the address is required to pay
    assert stripe_session(stripe_client, cast(str, order.provider_session_id))["shipping_address_collection"]
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "name"


@pytest.mark.parametrize("change", ["method amount", "method added", "promotion codes", "tax"])
def test_a_change_to_what_the_session_charges_opens_a_new_session(
    shop: FakeStripeServer, settings: SettingsWrapper, user: User, auth_client: APIClient, change: str
) -> None:
    # given: a pending order whose session is handed out again while nothing changes
    cart = make_cart(user)
    first = checkout(auth_client, cart)
    assert auth_client.post(checkout_url(cart)).status_code == 200

    # when
    if change == "method amount":
        ShippingMethod.objects.filter(name="Standard").update(amount=6_000)
    elif change == "method added":
        ShippingMethod.objects.create(name="Pickup", amount=0, currency="inr")
    elif change == "promotion codes":
        settings.ALLOW_PROMOTION_CODES = False
    else:
        settings.AUTOMATIC_TAX = False
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == 201
    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert response.json()["session_id"] != first.provider_session_id
