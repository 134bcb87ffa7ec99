"""Claiming a guest cart on sign-in (`POST /carts/{id}/claim/`, checkout/services/claims.py).

Quantities are added and capped (line maximum, stock, with the user's own pending order's hold
counted as the user's), lines past CART_MAX_LINES are left out, every cap is explained; a guest
cart with a pending order is a 409; under 20 concurrent claims it is merged exactly once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, CartItem, Order
from tests.checkout.conftest import checkout_url, run_concurrently
from tests.checkout.guests import CARTS, ORDERS, cart_token_client, guest_cart, order_token_client
from tests.checkout.stock_helpers import cart_with, sized_product
from tests.conftest import client_for
from tests.factories import ProductFactory, default_variant_of
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db


def claim_url(cart: Cart) -> str:
    return f"{CARTS}{cart.pk}/claim/"


def quantities(cart: Cart) -> dict[int, int]:
    """variant id → quantity of every line of `cart`."""
    return dict(CartItem.objects.filter(cart=cart).values_list("variant_id", "quantity"))


def test_a_claim_adds_quantities_and_caps_them_at_the_line_maximum_and_at_stock(
    user: User, settings: SettingsWrapper
) -> None:
    # given: the user's cart holds S×3 and M×1; the guest brings S×5, M×99, L×4 (2 in stock) and a mug
    settings.CART_MAX_QUANTITY = 99
    _, size = sized_product(stock={"S": 10, "M": None, "L": 2})
    mug = default_variant_of(ProductFactory.create(unit_amount=5_000))
    mine = cart_with(user, (size["S"], 3), (size["M"], 1))
    guest, token = guest_cart((size["S"], 5), (size["M"], 99), (size["L"], 4), (mug, 1))
    # when
    response = cart_token_client(token, client_for(user)).post(claim_url(guest))
    # then: the user's cart, merged
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(mine.pk)
    assert quantities(mine) == {size["S"].pk: 8, size["M"].pk: 99, size["L"].pk: 2, mug.pk: 1}
    assert body["item_count"] == 8 + 99 + 2 + 1
    # and: the two capped lines, and why
    capped = {line["sku"]: line for line in body["capped"]}
    assert set(capped) == {size["M"].sku, size["L"].sku}
    assert (capped[size["M"].sku]["reason"], capped[size["M"].sku]["requested"]) == ("max_quantity", 100)
    assert capped[size["M"].sku]["quantity"] == 99
    assert "at most 99 per line" in capped[size["M"].sku]["message"]
    assert (capped[size["L"].sku]["reason"], capped[size["L"].sku]["quantity"]) == ("insufficient_stock", 2)
    assert capped[size["L"].sku]["requested"] == 4
    assert "only 2 available" in capped[size["L"].sku]["message"]
    assert set(capped[size["L"].sku]) == {
        "variant_id",
        "sku",
        "name",
        "requested",
        "quantity",
        "reason",
        "message",
    }
    assert capped[size["L"].sku]["name"] == "T-shirt (L)"
    # and: the guest cart is merged, its lines left as they were
    guest.refresh_from_db()
    assert guest.status == Cart.Status.MERGED
    assert quantities(guest)[size["M"].pk] == 99


def test_the_users_own_pending_order_hold_counts_as_the_users(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient
) -> None:
    # given: 5 L in stock; the user's cart (L×3) is checked out, its pending order holds 3
    _, size = sized_product(stock={"L": 5})
    mine = cart_with(user, (size["L"], 3))
    assert auth_client.post(checkout_url(mine)).status_code == 201
    guest, token = guest_cart((size["L"], 4))
    # when
    response = cart_token_client(token, auth_client).post(claim_url(guest))
    # then: 5 available to the user (its own hold is its own), not 2
    assert response.status_code == 200, response.content
    assert quantities(mine) == {size["L"].pk: 5}
    [capped] = response.json()["capped"]
    assert (capped["reason"], capped["requested"], capped["quantity"]) == ("insufficient_stock", 7, 5)


def test_lines_past_the_line_limit_are_left_out_and_said_so(user: User, settings: SettingsWrapper) -> None:
    # given: the user's cart is at CART_MAX_LINES; the guest brings one of those and a new one
    settings.CART_MAX_LINES = 2
    a, b, c = (default_variant_of(ProductFactory.create()) for _ in range(3))
    mine = cart_with(user, (a, 1), (b, 1))
    guest, token = guest_cart((a, 2), (c, 1))
    # when
    response = cart_token_client(token, client_for(user)).post(claim_url(guest))
    # then
    assert response.status_code == 200
    assert quantities(mine) == {a.pk: 3, b.pk: 1}
    [capped] = response.json()["capped"]
    assert (capped["variant_id"], capped["reason"], capped["quantity"]) == (c.pk, "cart_too_many_lines", 0)


def test_a_claim_without_an_open_cart_opens_one(user: User) -> None:
    # given: the user has only a checked-out cart
    old = cart_with(user)
    Cart.objects.filter(pk=old.pk).update(status=Cart.Status.CHECKED_OUT)
    variant = default_variant_of(ProductFactory.create())
    guest, token = guest_cart((variant, 2))
    # when
    response = cart_token_client(token, client_for(user)).post(claim_url(guest))
    # then
    assert response.status_code == 200
    mine = Cart.objects.get(user=user, status=Cart.Status.OPEN)
    assert response.json()["id"] == str(mine.pk)
    assert (quantities(mine), response.json()["capped"]) == ({variant.pk: 2}, [])


def test_a_guest_cart_with_a_pending_order_is_409_until_that_order_is_cancelled(
    stripe_env: FakeStripeServer, user: User
) -> None:
    # given: a guest cart checked out (its order pending)
    variant = default_variant_of(ProductFactory.create())
    guest, token = guest_cart((variant, 1))
    answer = cart_token_client(token).post(checkout_url(guest), {"email": "asha@example.com"}).json()
    claimer = cart_token_client(token, client_for(user))
    # when
    refused = claimer.post(claim_url(guest))
    cancelled = order_token_client(answer["order_token"]).post(f"{ORDERS}{answer['order_id']}/cancel/")
    claimed = claimer.post(claim_url(guest))
    # then
    assert refused.status_code == 409
    assert refused.json()["code"] == "cart_has_pending_order"
    assert cancelled.json()["status"] == "cancelled"
    assert claimed.status_code == 200
    assert Cart.objects.get(pk=guest.pk).status == Cart.Status.MERGED


def test_a_claim_needs_the_jwt_and_the_token_and_an_open_guest_cart(user: User) -> None:
    # given
    guest, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    paid, paid_token = guest_cart()
    Cart.objects.filter(pk=paid.pk).update(status=Cart.Status.CHECKED_OUT)
    # when
    anonymous = cart_token_client(token).post(claim_url(guest))
    without_token = client_for(user).post(claim_url(guest))
    checked_out = cart_token_client(paid_token, client_for(user)).post(claim_url(paid))
    # then
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert (without_token.status_code, without_token.json()["code"]) == (404, "cart_not_found")
    assert (checked_out.status_code, checked_out.json()["code"]) == (409, "cart_checked_out")
    assert Cart.objects.get(pk=guest.pk).status == Cart.Status.OPEN
    assert not Cart.objects.filter(user=user).exists()  # nothing was opened for a refused claim


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("has_open_cart", [False, True])
def test_twenty_concurrent_claims_merge_the_guest_cart_exactly_once(user: User, has_open_cart: bool) -> None:
    # given: a guest cart (A×3, B×1); the user's open cart holds A×2, or the user has none yet
    a, b = (default_variant_of(ProductFactory.create()) for _ in range(2))
    if has_open_cart:
        cart_with(user, (a, 2))
    guest, token = guest_cart((a, 3), (b, 1))
    clients = [cart_token_client(token, client_for(user)) for _ in range(20)]
    # when
    responses: list[Any] = run_concurrently(
        [lambda c=c: c.post(claim_url(guest)) for c in clients], workers=20
    )
    # then: one merge; the others find the token no longer works (404); no 5xx, no deadlock
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 404: 19}, [r.content for r in responses if r.status_code not in (200, 404)]
    [mine] = Cart.objects.filter(user=user, status=Cart.Status.OPEN)
    assert quantities(mine) == {a.pk: 3 + (2 if has_open_cart else 0), b.pk: 1}  # never doubled
    assert Cart.objects.get(pk=guest.pk).status == Cart.Status.MERGED
    assert not Order.objects.exists()
