"""Guest checkout: a whole purchase without any account, the email it needs, and the tokens it hands out.

The cart token is random (256 bits) and stored only hashed; the order token is derived from the
order id under SECRET_KEY and stored only hashed (checkout/tokens.py). Stripe through fakestripe.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import stripe
from django.db import connection
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import StockReservation
from checkout.models import Cart, Order
from checkout.tokens import order_token_for
from tests.checkout.conftest import CARD_OK, checkout_url, make_cart
from tests.checkout.guests import CARTS, ORDERS, cart_token_client, guest_cart, order_token_client
from tests.checkout.stock_helpers import sized_product
from tests.factories import ProductFactory, default_variant_of
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db


def _row_text(table: str, pk: object) -> str:
    """Every column of one row, as text: what a leaked table would show."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [str(pk)])  # noqa: S608 - fixed table names
        return " ".join(str(value) for value in cursor.fetchone())


def test_a_whole_purchase_without_any_account(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient
) -> None:
    # given: a visitor with no account, and a product in stock
    _, sizes = sized_product(stock={"M": 5})
    visitor = APIClient()

    # when: they open a cart, keep its token, add a line, check out with their email
    opened = visitor.post(CARTS)
    token = opened.json()["token"]
    guest = cart_token_client(token)
    cart_id = opened.json()["id"]
    added = guest.post(f"{CARTS}{cart_id}/items/", {"variant_id": sizes["M"].pk, "quantity": 2})
    shown = guest.get(f"{CARTS}{cart_id}/")
    checkout = guest.post(f"{CARTS}{cart_id}/checkout/", {"email": "Asha@Example.COM"})
    session_id = checkout.json()["session_id"]
    order_token = checkout.json()["order_token"]
    held = StockReservation.objects.filter(order_id=checkout.json()["order_id"]).get()

    # and: pay on the hosted page, come back to the success page without a JWT, read the order
    paid = stripe_env.pay(session_id, CARD_OK)
    confirmed = APIClient().post(f"{ORDERS}confirm/", {"session_id": session_id})
    order_id = confirmed.json()["id"]
    read = order_token_client(order_token).get(f"{ORDERS}{order_id}/")

    # then: every step answered as for a user
    assert (opened.status_code, added.status_code, shown.status_code) == (201, 201, 200)
    assert shown.json()["token"] is None  # shown once, in the answer that made it
    assert shown.json()["item_count"] == 2
    assert checkout.status_code == 201, checkout.content
    assert held.quantity == 2  # the stock is reserved as for a user's checkout
    assert paid.status_code == 200
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "paid"
    assert confirmed.json()["order_token"] == order_token
    assert read.status_code == 200
    assert read.json()["status"] == "paid"
    assert [(i["sku"], i["quantity"]) for i in read.json()["items"]] == [(sizes["M"].sku, 2)]
    # and: a guest order, with the email it was placed with (domain lowercased), sent to Stripe
    order = Order.objects.get(pk=order_id)
    assert (order.user_id, order.email) == (None, "Asha@example.com")
    session = stripe_client.v1.checkout.sessions.retrieve(session_id)
    assert session.customer_email == "Asha@example.com"
    assert Cart.objects.get(pk=cart_id).status == Cart.Status.CHECKED_OUT
    sizes["M"].refresh_from_db()
    assert sizes["M"].stock_on_hand == 3


@pytest.mark.parametrize("body", [{}, {"email": ""}, {"email": "not-an-address"}, {"email": "a@b@c.com"}])
def test_guest_checkout_without_a_valid_email_is_400_naming_email(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, body: dict[str, str]
) -> None:
    # given
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    # when
    response = cart_token_client(token).post(checkout_url(cart), body)
    # then: nothing was created, nothing asked of Stripe
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["email"]
    assert not Order.objects.filter(cart=cart).exists()
    assert stripe_client.v1.checkout.sessions.list().data == []


def test_a_signed_in_users_checkout_ignores_email_and_has_no_order_token(
    stripe_env: FakeStripeServer, auth_client: APIClient, user: User
) -> None:
    # given
    cart = make_cart(user)
    # when
    response = auth_client.post(checkout_url(cart), {"email": "elsewhere@example.com"})
    # then: the user's order, with the user's address
    assert response.status_code == 201
    assert response.json()["order_token"] is None
    order = Order.objects.get(pk=response.json()["order_id"])
    assert (order.user_id, order.email, order.token_hash) == (user.pk, user.email, None)


def test_a_repeated_guest_checkout_answers_the_same_order_token(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient
) -> None:
    # given
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    guest = cart_token_client(token)
    first = guest.post(checkout_url(cart), {"email": "asha@example.com"})
    # when: a double click, then a corrected address
    again = guest.post(checkout_url(cart), {"email": "asha@example.com"})
    corrected = guest.post(checkout_url(cart), {"email": "asha.k@example.com"})
    # then: the same order and token; the new address replaces the session (the payment page shows it)
    assert (first.status_code, again.status_code, corrected.status_code) == (201, 200, 201)
    assert again.json() == first.json()
    assert first.json()["order_token"]
    assert corrected.json()["order_id"] != first.json()["order_id"]
    assert corrected.json()["order_token"] != first.json()["order_token"]
    assert Order.objects.get(pk=first.json()["order_id"]).status == Order.Status.CANCELLED
    session = stripe_client.v1.checkout.sessions.retrieve(corrected.json()["session_id"])
    assert session.customer_email == "asha.k@example.com"


def test_tokens_are_long_random_and_stored_only_hashed(stripe_env: FakeStripeServer) -> None:
    # given: two guest carts made through the API, one with a line
    first, second = APIClient().post(CARTS).json(), APIClient().post(CARTS).json()
    token = first["token"]
    cart = Cart.objects.get(pk=first["id"])
    guest = cart_token_client(token)
    guest.post(f"{CARTS}{cart.pk}/items/", {"product_id": ProductFactory.create().pk, "quantity": 1})
    # when
    checkout = guest.post(checkout_url(cart), {"email": "asha@example.com"})
    order_token = checkout.json()["order_token"]
    order = Order.objects.get(pk=checkout.json()["order_id"])

    # then: at least 128 bits each (256: 32 bytes, base64url), different per cart
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert len(base64.urlsafe_b64decode(order_token + "=")) == 32
    assert token != second["token"]
    # and: only the sha256 is stored; the raw token appears nowhere in the rows
    assert cart.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert order.token_hash == hashlib.sha256(order_token.encode()).hexdigest()
    assert token not in _row_text("checkout_cart", cart.pk)
    assert order_token not in _row_text("checkout_order", order.pk)
    assert order_token not in _row_text("checkout_cart", cart.pk)


def test_an_order_token_survives_a_secret_key_rotation(
    settings: SettingsWrapper, stripe_env: FakeStripeServer
) -> None:
    # given: a guest order and its token, under the old key
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    checkout = cart_token_client(token).post(checkout_url(cart), {"email": "asha@example.com"})
    order_token, order_id = checkout.json()["order_token"], checkout.json()["order_id"]
    old_key = settings.SECRET_KEY

    # when: the key is rotated without the old one in the fallbacks
    settings.SECRET_KEY = "a-new-secret-key-after-rotation"
    settings.SECRET_KEY_FALLBACKS = []
    read = order_token_client(order_token).get(f"{ORDERS}{order_id}/")
    # then: the token still reads the order (verified against the stored hash), but can't be re-shown
    assert read.status_code == 200
    assert read.json()["order_token"] is None

    # when: the old key is kept as a fallback
    settings.SECRET_KEY_FALLBACKS = [old_key]
    # then: it is shown again
    assert order_token_for(Order.objects.get(pk=order_id)) == order_token
