"""A cart's embedded products come from the catalog read cache (catalog/fragments.py): never staler
than a committed catalog write, stock at most `CATALOG_STOCK_STALENESS_SECONDS` behind, the
database when the cache is off or down; the cart's own lines and prices are always current."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog import cache as catalog_cache
from catalog.cache import catalog_changed
from catalog.models import Product, ProductImage, ProductVariant
from catalog.stock import stock_adjust, stock_set
from catalog.variants import product_sync
from checkout.models import Cart
from tests.catalog.admin_pages import page_data
from tests.checkout.guests import CARTS
from tests.checkout.stock_helpers import cart_with, sized_product
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory.create(username="staffer", is_staff=True, is_superuser=True))
    return client


def _product_cart(user: User, *, stock: int | None = None) -> tuple[Cart, ProductVariant]:
    _, sizes = sized_product(stock={"M": stock})
    return cart_with(user, (sizes["M"], 2)), sizes["M"]


def _read(client: APIClient, cart: Cart) -> dict[str, Any]:
    response = client.get(f"{CARTS}{cart.pk}/")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# --------------------------------------------------------------------------- never stale


def test_a_committed_price_change_is_in_the_next_cart_read(
    auth_client: APIClient, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: the cart was read (its product's fragment is cached)
    cart, variant = _product_cart(user)
    before = _read(auth_client, cart)
    assert before["items"][0]["product"]["unit_amount"] == 99_900
    # when: the price changes through the ORM write path (product_sync reports it on commit)
    with django_capture_on_commit_callbacks(execute=True):
        ProductVariant.objects.filter(pk=variant.pk).update(unit_amount=120_000)
        product_sync([variant.product_id])
    after = _read(auth_client, cart)
    # then: the product as embedded, and the line and totals
    line = after["items"][0]
    assert line["product"]["unit_amount"] == line["product"]["variants"][0]["unit_amount"] == 120_000
    assert (line["unit_amount"], line["line_total"], after["total_amount"]) == (120_000, 240_000, 240_000)


def test_the_line_price_is_read_every_time_even_without_a_catalog_bump(
    auth_client: APIClient, user: User
) -> None:
    # given
    cart, variant = _product_cart(user)
    _read(auth_client, cart)
    # when: a raw update that reports nothing to the cache
    ProductVariant.objects.filter(pk=variant.pk).update(unit_amount=50_000)
    after = _read(auth_client, cart)
    # then: what is charged follows the database
    assert (after["items"][0]["unit_amount"], after["total_amount"]) == (50_000, 100_000)


def test_an_admin_rename_and_deactivation_are_in_the_next_cart_read(
    auth_client: APIClient,
    user: User,
    staff_client: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given
    cart, variant = _product_cart(user)
    assert _read(auth_client, cart)["items"][0]["product"]["name"] == "T-shirt"
    url = reverse("admin:catalog_product_change", args=[variant.product_id])
    data = page_data(staff_client.get(url))
    data["name"] = "Renamed tee"
    data.pop("is_active", None)  # unticked: no longer for sale
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, data)
    # then
    assert response.status_code == 302
    assert not Product.objects.get(pk=variant.product_id).is_active
    product = _read(auth_client, cart)["items"][0]["product"]
    assert (product["name"], product["is_active"]) == ("Renamed tee", False)


def test_a_change_reported_by_catalog_changed_is_in_the_next_cart_read(
    auth_client: APIClient, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    cart, variant = _product_cart(user)
    _read(auth_client, cart)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=variant.product_id).update(description="Now in organic cotton.")
        catalog_changed()
    # then
    assert _read(auth_client, cart)["items"][0]["product"]["description"] == "Now in organic cotton."


# --------------------------------------------------------------------------- stock


def _available(client: APIClient, cart: Cart) -> int | None:
    value: int | None = _read(client, cart)["items"][0]["product"]["variants"][0]["available_quantity"]
    return value


def test_stock_in_a_cart_lags_at_most_the_staleness(
    auth_client: APIClient, user: User, settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: 10 on hand, the cart read
    settings.CATALOG_STOCK_STALENESS_SECONDS = 5
    cart, variant = _product_cart(user, stock=10)
    assert _available(auth_client, cart) == 10
    built = catalog_cache.time.time()
    # when: a sale of 3 commits
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(variant_id=variant.pk, delta=-3, actor="t")
    # then: within the staleness the cart may still say 10; once older, it says 7
    with mock.patch.object(catalog_cache.time, "time", return_value=built + 4):
        assert _available(auth_client, cart) == 10
    with mock.patch.object(catalog_cache.time, "time", return_value=built + 6):
        assert _available(auth_client, cart) == 7


def test_a_staleness_of_zero_is_exact_in_a_cart(
    auth_client: APIClient, user: User, settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    settings.CATALOG_STOCK_STALENESS_SECONDS = 0
    cart, variant = _product_cart(user, stock=10)
    assert _available(auth_client, cart) == 10
    # when
    with django_capture_on_commit_callbacks(execute=True):
        stock_set(variant_id=variant.pk, on_hand=4, actor="t")
    # then
    assert _available(auth_client, cart) == 4


def test_a_line_change_checks_the_real_stock_not_the_cached_one(
    auth_client: APIClient, user: User, settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: the cart shows 10 available (cached), then all but 2 are sold
    settings.CATALOG_STOCK_STALENESS_SECONDS = 60
    cart, variant = _product_cart(user, stock=10)
    assert _available(auth_client, cart) == 10
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(variant_id=variant.pk, delta=-8, actor="t")
    assert _available(auth_client, cart) == 10  # within the staleness
    line_id = _read(auth_client, cart)["items"][0]["id"]
    # when
    response = auth_client.patch(f"{CARTS}{cart.pk}/items/{line_id}/", {"quantity": 5}, format="json")
    # then: the write answers from the database
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"


# --------------------------------------------------------------------------- cache off, down, hosts


def test_with_the_cache_off_every_read_builds_the_products_from_the_database(
    auth_client: APIClient,
    user: User,
    settings: SettingsWrapper,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given
    settings.CATALOG_CACHE_ENABLED = False
    cart, variant = _product_cart(user)
    first = auth_client.get(f"{CARTS}{cart.pk}/")
    # when: a raw rename that reports nothing (a cache would not see it)
    Product.objects.filter(pk=variant.product_id).update(name="Raw rename")
    with django_assert_num_queries(4):
        second = auth_client.get(f"{CARTS}{cart.pk}/")
    # then
    assert first.json()["items"][0]["product"]["name"] == "T-shirt"
    assert second.json()["items"][0]["product"]["name"] == "Raw rename"


def test_a_cache_that_fails_is_answered_from_the_database(auth_client: APIClient, user: User) -> None:
    # given
    cart, _ = _product_cart(user)
    expected = auth_client.get(f"{CARTS}{cart.pk}/").content
    # when: the cache raises on reads, then only on writes
    with mock.patch.object(catalog_cache.cache, "get_many", side_effect=ConnectionError("down")):
        down = auth_client.get(f"{CARTS}{cart.pk}/")
    catalog_cache.cache.clear()
    with mock.patch.object(catalog_cache.cache, "set_many", side_effect=ConnectionError("down")):
        writes_fail = auth_client.get(f"{CARTS}{cart.pk}/")
    # then
    assert down.status_code == writes_fail.status_code == 200
    assert down.content == writes_fail.content == expected


def test_image_urls_follow_the_host_the_cart_is_read_on(
    auth_client: APIClient, user: User, settings: SettingsWrapper
) -> None:
    # given: a product with a picture in the cart, read on one host
    settings.ALLOWED_HOSTS = ["testserver", "shop.example"]
    cart, variant = _product_cart(user)
    ProductImage.objects.create(product_id=variant.product_id, image="products/tee.png", alt="Tee")
    first = _read(auth_client, cart)["items"][0]["product"]["image_url"]
    # when: read on another host
    other = auth_client.get(f"{CARTS}{cart.pk}/", HTTP_HOST="shop.example").json()
    again = _read(auth_client, cart)["items"][0]["product"]["image_url"]
    # then
    assert first == again == "http://testserver/media/products/tee.png"
    assert other["items"][0]["product"]["image_url"] == "http://shop.example/media/products/tee.png"


def test_a_cart_line_of_a_product_shows_it_as_the_catalog_does(
    auth_client: APIClient, api_client: APIClient, user: User
) -> None:
    # given
    cart, variant = _product_cart(user, stock=3)
    # when
    embedded = _read(auth_client, cart)["items"][0]["product"]
    published = api_client.get(f"/api/v1/products/{variant.product_id}/").json()
    # then
    assert embedded == published
