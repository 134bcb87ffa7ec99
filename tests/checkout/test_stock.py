"""Stock through the API: carts check it, checkout reserves it, settlement releases or sells it.

Real PostgreSQL, the real stripe SDK against fakestripe. The concurrent cases (many buyers, two
server processes, staff and webhooks racing) are in test_stock_concurrency.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import ProductVariant, StockMovement, StockReservation
from catalog.stock import ledger_mismatches
from checkout.models import Order, OrderEvent
from tests.checkout.conftest import checkout_url, order_of
from tests.checkout.stock_helpers import cart_with, sized_product
from tests.conftest import client_for
from tests.factories import CartFactory, ProductFactory, UserFactory
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

CARD_OK = "4242424242424242"


@pytest.fixture(autouse=True)
def _exact_stock_reads(settings: SettingsWrapper) -> None:
    """These tests read availability through the product API after each step, in test
    transactions whose commits (and so the catalog cache's stock bumps) never happen: they read
    the database. How cached pages follow stock is tests/catalog/test_cache.py's subject."""
    settings.CATALOG_CACHE_ENABLED = False


def _available(variant: ProductVariant) -> int | None:
    body = APIClient().get(f"/api/v1/products/{variant.product_id}/").json()
    return cast(int | None, next(v for v in body["variants"] if v["id"] == variant.pk)["available_quantity"])


def _add(client: APIClient, cart_id: object, **body: Any) -> Any:
    return client.post(f"/api/v1/carts/{cart_id}/items/", body, format="json")


def _confirm(client: APIClient, order: Order) -> Any:
    return client.post("/api/v1/orders/confirm/", {"session_id": order.provider_session_id}, format="json")


# --------------------------------------------------------------------------- carts check, never reserve


def test_adding_more_than_is_available_is_409_naming_quantity_with_how_many_are_left(
    auth_client: APIClient, user: User
) -> None:
    # given: 3 M shirts on hand, an empty cart
    _, sizes = sized_product(stock={"S": 0, "M": 3})
    cart = CartFactory.create(user=user)

    # when: 2 fit, 2 more would be 4
    first = _add(auth_client, cart.pk, variant_id=sizes["M"].pk, quantity=2)
    second = _add(auth_client, cart.pk, variant_id=sizes["M"].pk, quantity=2)
    sold_out = _add(auth_client, cart.pk, variant_id=sizes["S"].pk, quantity=1)

    # then
    assert first.status_code == 201
    assert first.json()["variant"] == {
        "id": sizes["M"].pk,
        "sku": sizes["M"].sku,
        "title": "M",
        "options": {"Size": "M"},
    }
    assert second.status_code == 409
    assert second.json()["code"] == "insufficient_stock"
    assert second.json()["fields"] == {"quantity": ["Only 3 of T-shirt (M) left."]}
    assert sold_out.status_code == 409
    assert sold_out.json()["fields"] == {"quantity": ["T-shirt (S) is out of stock."]}
    assert cart.items.get().quantity == 2  # unchanged by the refusals
    assert _available(sizes["M"]) == 3  # a cart reserves nothing
    assert not StockReservation.objects.exists()


def test_updating_a_line_past_the_stock_is_409_and_lowering_it_always_works(
    auth_client: APIClient, user: User
) -> None:
    # given: a line of 2 of the 2 on hand, then staff count only 1
    _, sizes = sized_product(stock={"M": 2})
    cart = cart_with(user, (sizes["M"], 2))
    item = cart.items.get()
    ProductVariant.objects.filter(pk=sizes["M"].pk).update(stock_on_hand=1)

    # when
    more = auth_client.patch(f"/api/v1/carts/{cart.pk}/items/{item.pk}/", {"quantity": 3}, format="json")
    fewer = auth_client.patch(f"/api/v1/carts/{cart.pk}/items/{item.pk}/", {"quantity": 1}, format="json")

    # then
    assert more.status_code == 409
    assert more.json()["fields"] == {"quantity": ["Only 1 of T-shirt (M) left."]}
    assert fewer.status_code == 200
    assert fewer.json()["quantity"] == 1


def test_product_id_works_for_a_one_variant_product_and_names_variant_id_otherwise(
    auth_client: APIClient, user: User
) -> None:
    # given
    single = ProductFactory.create(unit_amount=50_000)
    sized, sizes = sized_product(stock={"S": None, "M": None})
    cart = CartFactory.create(user=user)

    # when
    ok = _add(auth_client, cart.pk, product_id=single.pk, quantity=1)
    several = _add(auth_client, cart.pk, product_id=sized.pk, quantity=1)
    neither = _add(auth_client, cart.pk, quantity=1)
    ProductVariant.objects.filter(pk=sizes["S"].pk).update(is_active=False)
    inactive = _add(auth_client, cart.pk, variant_id=sizes["S"].pk, quantity=1)
    mismatched = _add(auth_client, cart.pk, variant_id=sizes["M"].pk, product_id=single.pk, quantity=1)
    now_single = _add(auth_client, cart.pk, product_id=sized.pk, quantity=1)

    # then
    assert ok.status_code == 201
    assert ok.json()["product"]["id"] == single.pk
    assert several.status_code == 400
    assert (several.json()["code"], list(several.json()["fields"])) == ("variant_required", ["variant_id"])
    assert neither.status_code == 400
    assert set(neither.json()["fields"]) == {"variant_id", "product_id"}
    assert inactive.status_code == 400
    assert list(inactive.json()["fields"]) == ["variant_id"]
    assert mismatched.status_code == 400
    assert list(mismatched.json()["fields"]) == ["variant_id"]
    assert now_single.status_code == 201
    assert now_single.json()["variant"]["id"] == sizes["M"].pk


def test_two_variants_of_one_product_are_two_lines(auth_client: APIClient, user: User) -> None:
    # given
    _, sizes = sized_product(stock={"S": None, "M": None}, unit_amount=10_000)
    cart = CartFactory.create(user=user)

    # when
    _add(auth_client, cart.pk, variant_id=sizes["S"].pk, quantity=1)
    _add(auth_client, cart.pk, variant_id=sizes["M"].pk, quantity=2)
    body = auth_client.get(f"/api/v1/carts/{cart.pk}/").json()

    # then
    assert [(line["variant"]["title"], line["quantity"], line["line_total"]) for line in body["items"]] == [
        ("S", 1, 10_000),
        ("M", 2, 20_000),
    ]
    assert body["total_amount"] == 30_000


# --------------------------------------------------------------------------- checkout reserves


def test_checkout_reserves_and_a_short_cart_is_409_naming_each_short_line(
    stripe_env: FakeStripeServer, user: User, other_user: User
) -> None:
    # given: 2 S and 1 M on hand; the first buyer takes 1 S and the M
    _, sizes = sized_product(stock={"S": 2, "M": 1})
    first = cart_with(user, (sizes["S"], 1), (sizes["M"], 1))
    second = cart_with(other_user, (sizes["S"], 2), (sizes["M"], 1))
    short_s, short_m = second.items.order_by("id")

    # when
    taken = client_for(user).post(checkout_url(first))
    refused = client_for(other_user).post(checkout_url(second))

    # then: the first holds its lines until its session ends
    assert taken.status_code == 201
    order = order_of(first)
    assert sorted(
        StockReservation.objects.filter(order=order).values_list("variant__sku", "quantity", "status")
    ) == [
        (sizes["M"].sku, 1, "held"),
        (sizes["S"].sku, 1, "held"),
    ]
    assert all(r.expires_at == order.session_expires_at for r in StockReservation.objects.filter(order=order))
    assert (_available(sizes["S"]), _available(sizes["M"])) == (1, 0)
    # the second is refused as a whole, each short line named, nothing created
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_stock"
    assert refused.json()["fields"] == {
        f"items.{short_s.pk}.quantity": ["Only 1 of T-shirt (S) left."],
        f"items.{short_m.pk}.quantity": ["T-shirt (M) is out of stock."],
    }
    assert not Order.objects.filter(cart=second).exists()
    assert len(stripe_env.client().v1.checkout.sessions.list().data) == 1


def test_a_repeated_checkout_reuses_its_hold_and_a_changed_cart_moves_it(
    stripe_env: FakeStripeServer, auth_client: APIClient, user: User
) -> None:
    # given: 3 on hand, a cart of 2 checked out
    _, sizes = sized_product(stock={"M": 3})
    cart = cart_with(user, (sizes["M"], 2))
    assert auth_client.post(checkout_url(cart)).status_code == 201

    # when: the same checkout again, then the line grows to 3 and the cart is checked out again
    again = auth_client.post(checkout_url(cart))
    item = cart.items.get()
    assert (
        auth_client.patch(
            f"/api/v1/carts/{cart.pk}/items/{item.pk}/", {"quantity": 3}, format="json"
        ).status_code
        == 200
    )
    changed = auth_client.post(checkout_url(cart))

    # then: one hold at a time, of the current order
    assert again.status_code == 200
    assert changed.status_code == 201
    old, new = Order.objects.filter(cart=cart).order_by("created_at")
    assert old.status == "cancelled"
    assert list(StockReservation.objects.filter(order=old).values_list("status", flat=True)) == ["released"]
    assert list(StockReservation.objects.filter(order=new).values_list("quantity", "status")) == [(3, "held")]
    assert _available(sizes["M"]) == 0


def test_a_changed_cart_that_no_longer_fits_keeps_its_open_session(
    stripe_env: FakeStripeServer, auth_client: APIClient, user: User, other_user: User
) -> None:
    # given: 3 on hand; our cart of 1 checked out, then grown to 2 (our own hold counts as ours)
    _, sizes = sized_product(stock={"M": 3})
    cart = cart_with(user, (sizes["M"], 1))
    assert auth_client.post(checkout_url(cart)).status_code == 201
    item = cart.items.get()
    grown = auth_client.patch(f"/api/v1/carts/{cart.pk}/items/{item.pk}/", {"quantity": 2}, format="json")
    assert grown.status_code == 200
    # meanwhile another buyer holds 2 of the 2 left beside our hold of 1
    other = cart_with(other_user, (sizes["M"], 2))
    assert client_for(other_user).post(checkout_url(other)).status_code == 201

    # when: checking out 2 would need one of the other buyer's units
    refused = auth_client.post(checkout_url(cart))

    # then: refused before the open session is closed: the first order can still be paid
    assert refused.status_code == 409
    assert refused.json()["fields"] == {f"items.{item.pk}.quantity": ["Only 1 of T-shirt (M) left."]}
    order = order_of(cart)
    assert order.status == "pending"
    assert (
        stripe_env.client().v1.checkout.sessions.retrieve(cast(str, order.provider_session_id)).status
        == "open"
    )
    assert StockReservation.objects.get(order=order).status == "held"


def test_cancel_and_a_failed_session_release_the_hold(
    stripe_env: FakeStripeServer, auth_client: APIClient, user: User
) -> None:
    # given: 1 on hand, checked out
    _, sizes = sized_product(stock={"M": 1})
    cart = cart_with(user, (sizes["M"], 1))
    auth_client.post(checkout_url(cart))
    order = order_of(cart)
    assert _available(sizes["M"]) == 0

    # when: the buyer cancels
    cancelled = auth_client.post(f"/api/v1/orders/{order.pk}/cancel/")

    # then
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert _available(sizes["M"]) == 1
    # and a checkout whose session can't be created (the provider errs) holds nothing either
    stripe_env.faults(fail_next=1, status=400)
    failed = auth_client.post(checkout_url(cart))
    assert failed.status_code == 502
    assert Order.objects.filter(cart=cart, status="failed").count() == 1
    assert not StockReservation.objects.filter(status="held").exists()
    assert _available(sizes["M"]) == 1


def test_paying_turns_the_hold_into_a_sale_with_a_ledger_row(
    stripe_env: FakeStripeServer, auth_client: APIClient, user: User
) -> None:
    # given: 5 on hand, 2 checked out
    _, sizes = sized_product(stock={"M": 5})
    cart = cart_with(user, (sizes["M"], 2))
    auth_client.post(checkout_url(cart))
    order = order_of(cart)

    # when: paid and confirmed (twice: confirm is safe to repeat)
    stripe_env.pay(cast(str, order.provider_session_id), CARD_OK)
    _confirm(auth_client, order)
    confirmed = _confirm(auth_client, order)

    # then: on hand 3, one sale in the ledger, the hold is sold, nothing oversold
    assert confirmed.json()["status"] == "paid"
    assert confirmed.json()["oversold"] is False
    assert confirmed.json()["items"][0] | {} == confirmed.json()["items"][0]
    item = confirmed.json()["items"][0]
    assert (item["variant_id"], item["sku"], item["variant_title"]) == (sizes["M"].pk, sizes["M"].sku, "M")
    sizes["M"].refresh_from_db()
    assert sizes["M"].stock_on_hand == 3
    sales = list(
        StockMovement.objects.filter(reason="sale").values_list("delta", "on_hand_after", "order_id")
    )
    assert sales == [(-2, 3, order.pk)]
    assert StockReservation.objects.get(order=order).status == "sold"
    assert ledger_mismatches() == []
    assert _available(sizes["M"]) == 3


def test_a_payment_after_the_hold_lapsed_and_the_stock_sold_is_kept_and_flagged_oversold(
    stripe_env: FakeStripeServer, user: User, other_user: User
) -> None:
    # given: the last unit, held by a first buyer whose session time then ran out unnoticed
    _, sizes = sized_product(stock={"M": 1})
    late_cart = cart_with(user, (sizes["M"], 1))
    client_for(user).post(checkout_url(late_cart))
    late = order_of(late_cart)
    StockReservation.objects.filter(order=late).update(expires_at=timezone.now() - timedelta(seconds=1))
    # a second buyer takes and pays for the unit
    cart = cart_with(other_user, (sizes["M"], 1))
    assert client_for(other_user).post(checkout_url(cart)).status_code == 201
    sold = order_of(cart)
    stripe_env.pay(cast(str, sold.provider_session_id), CARD_OK)
    assert _confirm(client_for(other_user), sold).json()["oversold"] is False

    # when: the first buyer's payment went through after all
    stripe_env.pay(cast(str, late.provider_session_id), CARD_OK)
    answer = _confirm(client_for(user), late)

    # then: paid (money taken is never refused), flagged, with an event; on hand owes one unit
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["oversold"]) == ("paid", True)
    late.refresh_from_db()
    assert late.oversold is True
    assert OrderEvent.objects.filter(order=late, message__startswith="oversold").count() == 1
    sizes["M"].refresh_from_db()
    assert sizes["M"].stock_on_hand == -1
    assert _available(sizes["M"]) == 0  # never shown below 0
    assert ledger_mismatches() == []
    assert list(Order.objects.filter(oversold=True)) == [late]


def test_untracked_variants_are_never_short_and_hold_nothing(
    stripe_env: FakeStripeServer, user: User
) -> None:
    # given
    _, sizes = sized_product(stock={"M": None})
    cart = cart_with(user, (sizes["M"], 40))

    # when
    response = client_for(user).post(checkout_url(cart))

    # then
    assert response.status_code == 201
    assert not StockReservation.objects.exists()
    assert _available(sizes["M"]) is None


def test_the_ledger_explains_every_number_after_sales_releases_and_staff_changes(
    stripe_env: FakeStripeServer,
) -> None:
    # given: three buyers on 4 units: one pays, one cancels, one stays pending
    _, sizes = sized_product(stock={"M": 4})
    buyers = [UserFactory.create() for _ in range(3)]
    carts = [cart_with(buyer, (sizes["M"], 1)) for buyer in buyers]
    for buyer, cart in zip(buyers, carts, strict=True):
        client_for(buyer).post(checkout_url(cart))
    paid, cancelled, _pending = (order_of(cart) for cart in carts)
    stripe_env.pay(cast(str, paid.provider_session_id), CARD_OK)
    _confirm(client_for(buyers[0]), paid)
    client_for(buyers[1]).post(f"/api/v1/orders/{cancelled.pk}/cancel/")

    # then: on hand 3 (one sale), available 2 (one pending hold), the ledger sums to on hand
    sizes["M"].refresh_from_db()
    assert sizes["M"].stock_on_hand == 3
    assert _available(sizes["M"]) == 2
    assert ledger_mismatches() == []
