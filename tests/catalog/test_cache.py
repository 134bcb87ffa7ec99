"""The catalog read cache (catalog/cache.py, catalog/http.py): pages served without the database,
every write path bumping the catalog version on commit, stock lagging at most the staleness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog import cache as catalog_cache
from catalog.models import Category, Product, ProductVariant, StockReservation
from catalog.stock import StockLine, stock_adjust, stock_release, stock_reserve, stock_sell, stock_set
from catalog.variants import product_sync
from tests.catalog.admin_pages import page_data
from tests.catalog.products import PRODUCTS, detail_url
from tests.checkout.backoffice import make_order
from tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory, UserFactory

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory.create(username="staffer", is_staff=True, is_superuser=True))
    return client


@contextmanager
def bumped(capture: Capture, *, catalog: bool = True, stock: bool = False) -> Iterator[None]:
    """Asserts that what runs inside bumps the catalog version (and/or the stock counter), and
    only when its transaction commits."""
    before = catalog_cache.versions()
    with capture(execute=False) as callbacks:
        yield
    assert catalog_cache.versions() == before, "bumped before the commit"
    assert callbacks, "nothing was deferred to the commit"
    for callback in callbacks:
        callback()
    after = catalog_cache.versions()
    assert (after[0] > before[0]) is catalog, f"catalog version {before[0]} -> {after[0]}"
    assert (after[1] > before[1]) is stock, f"stock counter {before[1]} -> {after[1]}"


def price_of(client: APIClient, path: str) -> int:
    body = client.get(path).json()
    return int(body["unit_amount"] if "unit_amount" in body else body["results"][0]["unit_amount"])


# --------------------------------------------------------------------------- served from the cache


def test_a_cached_product_list_page_costs_no_query(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given: the first request reads the database (products, then their children)
    ProductFactory.create_batch(3)
    with django_assert_num_queries(2):
        first = api_client.get(PRODUCTS)
    # when
    with django_assert_num_queries(0):
        second = api_client.get(PRODUCTS)
    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert len(second.json()["results"]) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/{id}/",
        "/api/v1/products/?search=widget",
        "/api/v1/products/?ordering=unit_amount&page_size=2",
        "/api/v1/categories/",
    ],
)
def test_product_details_searches_filters_and_categories_are_cached(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries, path: str
) -> None:
    # given
    product = ProductFactory.create(name="Blue widget", category=CategoryFactory.create())
    url = path.format(id=product.pk)
    first = api_client.get(url)
    # when
    with django_assert_num_queries(0):
        again = api_client.get(url)
    # then
    assert first.status_code == 200
    assert again.headers["X-Cache"] == "hit"
    assert again.content == first.content


def test_parameter_order_does_not_matter_but_values_do(api_client: APIClient) -> None:
    # given
    ProductFactory.create_batch(3)
    api_client.get(PRODUCTS + "?ordering=unit_amount&page_size=2")
    # when
    same = api_client.get(PRODUCTS + "?page_size=2&ordering=unit_amount")
    other = api_client.get(PRODUCTS + "?page_size=1&ordering=unit_amount")
    # then
    assert same.headers["X-Cache"] == "hit"
    assert other.headers["X-Cache"] == "miss"
    assert len(other.json()["results"]) == 1


def test_an_unknown_parameter_is_answered_uncached(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given: random parameters must not fill the cache with copies
    ProductFactory.create()
    api_client.get(PRODUCTS + "?utm_source=x")
    # when: no page can exist for it, so the cache is not even asked (no round trip before the view)
    product_id = Product.objects.get().pk
    with (
        mock.patch.object(catalog_cache, "versions", side_effect=AssertionError("cache asked")),
        mock.patch.object(catalog_cache, "page_get", side_effect=AssertionError("cache asked")),
    ):
        with django_assert_num_queries(2):
            response = api_client.get(PRODUCTS + "?utm_source=x")
        detail = api_client.get(detail_url(product_id) + "?utm_source=x")
    # then
    assert response.status_code == 200
    assert "X-Cache" not in response.headers
    assert len(response.json()["results"]) == 1
    assert detail.status_code == 200
    assert "X-Cache" not in detail.headers


def test_errors_are_never_cached(api_client: APIClient) -> None:
    # given
    ProductFactory.create()
    api_client.get(PRODUCTS + "?ordering=bogus")
    # when
    again = api_client.get(PRODUCTS + "?ordering=bogus")
    missing = api_client.get(detail_url("no-such-product"))
    # then
    assert again.status_code == 400
    assert "X-Cache" not in again.headers
    assert missing.status_code == 404


def test_a_token_gets_the_same_bytes_as_everyone(api_client: APIClient, user: User) -> None:
    # given: the catalog ignores authentication, so a token changes nothing in the content
    ProductFactory.create()
    anonymous = api_client.get(PRODUCTS)
    # when
    with_token = APIClient().get(PRODUCTS, HTTP_AUTHORIZATION="Bearer not-even-valid")
    # then
    assert with_token.status_code == 200
    assert with_token.headers["X-Cache"] == "hit"
    assert with_token.content == anonymous.content


def test_the_cache_can_be_switched_off(
    api_client: APIClient, settings: SettingsWrapper, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    settings.CATALOG_CACHE_ENABLED = False
    ProductFactory.create()
    api_client.get(PRODUCTS)
    # when
    with django_assert_num_queries(2):
        response = api_client.get(PRODUCTS)
    # then
    assert response.status_code == 200
    assert "X-Cache" not in response.headers


def test_a_cache_that_fails_is_a_miss_never_an_error(api_client: APIClient) -> None:
    # given
    ProductFactory.create(unit_amount=10_000)
    # when: the cache raises on every call
    with (
        mock.patch.object(catalog_cache.cache, "get_many", side_effect=ConnectionError("down")),
        mock.patch.object(catalog_cache.cache, "get", side_effect=ConnectionError("down")),
    ):
        down = api_client.get(PRODUCTS)
    counters = {catalog_cache.VERSION_KEY: 1, catalog_cache.STOCK_KEY: 1}
    with (
        mock.patch.object(catalog_cache.cache, "get_many", return_value=counters),
        mock.patch.object(catalog_cache.cache, "get", side_effect=ConnectionError("down")),
        mock.patch.object(catalog_cache.cache, "set", side_effect=ConnectionError("down")),
    ):
        reads_fail = api_client.get(PRODUCTS)
    with mock.patch.object(catalog_cache.cache, "incr", side_effect=ConnectionError("down")):
        catalog_cache._bump(catalog_cache.VERSION_KEY)  # logged, not raised
    # then
    assert down.status_code == reads_fail.status_code == 200
    assert down.json()["results"][0]["unit_amount"] == 10_000
    assert reads_fail.headers["X-Cache"] == "miss"


def test_a_lost_version_starts_again_from_the_clock_never_from_an_old_number() -> None:
    # given
    version, _ = catalog_cache.versions()
    catalog_cache._bump(catalog_cache.VERSION_KEY)
    # when: the cache is flushed, then a write bumps before any read
    catalog_cache.cache.clear()
    catalog_cache._bump(catalog_cache.VERSION_KEY)
    # then
    assert catalog_cache.versions()[0] >= version


# --------------------------------------------------------------------------- never stale: write paths


def test_a_committed_price_change_is_served_at_once(
    api_client: APIClient, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: the list and the product are cached
    variant = ProductVariantFactory.create(unit_amount=10_000)
    product_sync([variant.product_id])
    assert price_of(api_client, PRODUCTS) == 10_000
    assert price_of(api_client, detail_url(variant.product_id)) == 10_000
    # when
    with django_capture_on_commit_callbacks(execute=True):
        ProductVariant.objects.filter(pk=variant.pk).update(unit_amount=12_000)
        product_sync([variant.product_id])
    # then
    assert price_of(api_client, PRODUCTS) == 12_000
    assert price_of(api_client, detail_url(variant.product_id)) == 12_000


def test_a_change_not_yet_committed_leaves_the_version_alone(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given
    before = catalog_cache.versions()
    # when: the transaction is still open
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        catalog_cache.catalog_changed()
        catalog_cache.stock_changed()
    # then
    assert catalog_cache.versions() == before
    assert len(callbacks) == 2


def test_admin_product_save_with_its_inlines_bumps(
    staff_client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    variant = ProductVariantFactory.create(unit_amount=10_000)
    url = reverse("admin:catalog_product_change", args=[variant.product_id])
    data = page_data(staff_client.get(url))
    data["name"] = "Renamed"
    # when
    with bumped(django_capture_on_commit_callbacks):
        response = staff_client.post(url, data)
    # then
    assert response.status_code == 302
    assert Product.objects.get(pk=variant.product_id).name == "Renamed"


def test_admin_variant_save_bumps(staff_client: Client, django_capture_on_commit_callbacks: Capture) -> None:
    # given
    variant = ProductVariantFactory.create(unit_amount=10_000)
    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    data = page_data(staff_client.get(url))
    data["unit_amount"] = "45000"
    # when
    with bumped(django_capture_on_commit_callbacks):
        response = staff_client.post(url, data)
    # then
    assert response.status_code == 302
    assert Product.objects.get(pk=variant.product_id).unit_amount == 45_000


def test_admin_list_edit_of_the_active_flag_bumps(
    staff_client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    product = ProductFactory.create(is_active=True)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(product.pk),
        "_save": "Save",
    }  # is_active unchecked -> False
    # when
    with bumped(django_capture_on_commit_callbacks):
        response = staff_client.post(reverse("admin:catalog_product_changelist"), data)
    # then
    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).is_active is False


def test_admin_delete_and_bulk_delete_bump(
    staff_client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    category = CategoryFactory.create()
    doomed = ProductVariantFactory.create_batch(2)
    # when
    with bumped(django_capture_on_commit_callbacks):
        one = staff_client.post(reverse("admin:catalog_category_delete", args=[category.pk]), {"post": "yes"})
    with bumped(django_capture_on_commit_callbacks):
        bulk = staff_client.post(
            reverse("admin:catalog_productvariant_changelist"),
            {"action": "delete_selected", "_selected_action": [str(v.pk) for v in doomed], "post": "yes"},
        )
    # then
    assert (one.status_code, bulk.status_code) == (302, 302)
    assert not Category.objects.filter(pk=category.pk).exists()
    assert not ProductVariant.objects.filter(pk__in=[v.pk for v in doomed]).exists()


def test_admin_bulk_stock_adjustment_bumps_stock(
    staff_client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    variant = ProductVariantFactory.create()
    # when
    with bumped(django_capture_on_commit_callbacks, catalog=True, stock=True):
        response = staff_client.post(
            reverse("admin:catalog_productvariant_changelist"),
            {
                "action": "adjust_stock",
                "_selected_action": [str(variant.pk)],
                "index": "0",
                "apply": "1",
                "delta": "7",
                "note": "delivery",
            },
        )
    # then
    assert response.status_code == 302
    assert ProductVariant.objects.get(pk=variant.pk).stock_on_hand == 7


def test_admin_add_category_bumps(staff_client: Client, django_capture_on_commit_callbacks: Capture) -> None:
    # when
    with bumped(django_capture_on_commit_callbacks):
        response = staff_client.post(
            reverse("admin:catalog_category_add"), {"name": "Lamps", "slug": "lamps"}
        )
    # then
    assert response.status_code == 302
    assert Category.objects.filter(slug="lamps").exists()


def test_product_sync_bumps(django_capture_on_commit_callbacks: Capture) -> None:
    # given
    variant = ProductVariantFactory.create()
    # when / then
    with bumped(django_capture_on_commit_callbacks):
        product_sync([variant.product_id])


def test_seed_catalog_bumps(django_capture_on_commit_callbacks: Capture) -> None:
    # when / then
    with bumped(django_capture_on_commit_callbacks):  # bulk rows: the catalog version covers the stock
        call_command("seed_catalog", products=3, categories=2, verbosity=0)
    assert Product.objects.count() == 3


def test_seed_demo_bumps(
    settings: SettingsWrapper, tmp_path: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    # when / then
    with bumped(django_capture_on_commit_callbacks):  # bulk rows: the catalog version covers the stock
        call_command("seed_demo", verbosity=0, stdout=mock.Mock())
    assert Product.objects.count() == 12


# --------------------------------------------------------------------------- stock: at most the staleness


def test_every_stock_change_bumps_the_stock_counter_only(django_capture_on_commit_callbacks: Capture) -> None:
    # given
    variant = ProductVariantFactory.create()
    order = make_order(status="pending")
    expires = timezone.now() + timedelta(minutes=30)
    # when / then: staff changes
    with bumped(django_capture_on_commit_callbacks, catalog=False, stock=True):
        stock_set(variant_id=variant.pk, on_hand=None, actor="t")  # untracked -> untracked: nothing
        stock_set(variant_id=variant.pk, on_hand=0, actor="t")  # starts tracking at 0
    with bumped(django_capture_on_commit_callbacks, catalog=False, stock=True):
        stock_adjust(variant_id=variant.pk, delta=5, actor="t")
    # a pending order holds, is released, holds again and is sold
    variant.refresh_from_db()
    with bumped(django_capture_on_commit_callbacks, catalog=False, stock=True):
        stock_reserve(order_id=order.pk, lines=[StockLine(variant, 2, "q")], expires_at=expires)
    with bumped(django_capture_on_commit_callbacks, catalog=False, stock=True):
        assert stock_release(order_id=order.pk) == 1
    paid = make_order(status="pending")
    StockReservation.objects.create(variant=variant, order=paid, quantity=2, expires_at=expires)
    with bumped(django_capture_on_commit_callbacks, catalog=False, stock=True):
        assert stock_sell(order_id=paid.pk, lines={variant.pk: 2}, variants=[variant]) == []
    with bumped(django_capture_on_commit_callbacks, catalog=False, stock=True):
        stock_set(variant_id=variant.pk, on_hand=None, actor="t")  # tracking off
    assert ProductVariant.objects.get(pk=variant.pk).stock_on_hand is None


def _available(client: APIClient, product_id: int) -> tuple[int | None, str]:
    response = client.get(detail_url(product_id))
    return response.json()["variants"][0]["available_quantity"], response.headers["X-Cache"]


def test_stock_lags_at_most_the_staleness(
    api_client: APIClient, settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: 10 on hand, the product page cached
    settings.CATALOG_STOCK_STALENESS_SECONDS = 5
    variant = ProductVariantFactory.create()
    stock_set(variant_id=variant.pk, on_hand=10, actor="t")
    assert _available(api_client, variant.product_id) == (10, "miss")
    built = catalog_cache.time.time()
    # when: a sale of 3 commits
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(variant_id=variant.pk, delta=-3, actor="t")
    # then: within the staleness the page may still say 10; once older, it says 7
    with mock.patch.object(catalog_cache.time, "time", return_value=built + 4):
        assert _available(api_client, variant.product_id) == (10, "hit")
    with mock.patch.object(catalog_cache.time, "time", return_value=built + 6):
        assert _available(api_client, variant.product_id) == (7, "miss")


def test_a_staleness_of_zero_is_exact(
    api_client: APIClient, settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    settings.CATALOG_STOCK_STALENESS_SECONDS = 0
    variant = ProductVariantFactory.create()
    stock_set(variant_id=variant.pk, on_hand=10, actor="t")
    assert _available(api_client, variant.product_id) == (10, "miss")
    assert _available(api_client, variant.product_id) == (10, "hit")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(variant_id=variant.pk, delta=-3, actor="t")
    # then
    assert _available(api_client, variant.product_id) == (7, "miss")
