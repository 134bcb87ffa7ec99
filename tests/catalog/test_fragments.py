"""Product fragments (catalog/fragments.py, catalog/cache.py): a product's public JSON kept in the
catalog read cache under the rules of a cached page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog import cache as catalog_cache
from catalog.fragments import product_fragments, products_json, render_json
from catalog.models import Product
from catalog.serializers import ProductSerializer
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _request(host: str = "testserver") -> Request:
    return Request(APIRequestFactory().get("/", HTTP_HOST=host))


@pytest.mark.parametrize(
    "data",
    [
        {"name": 'सूती कुर्ता "quoted"\\ \u2028 \u2029 \t', "n": [1, None, True, 2.5], "empty": {}},
        [{"a": {"b": []}}, "é", ""],
    ],
)
def test_render_json_is_what_the_json_renderer_writes(data: Any) -> None:
    assert render_json(data) == JSONRenderer().render(data)


def test_a_fragment_is_the_product_as_its_serializer_renders_it() -> None:
    # given
    product = ProductFactory.create(name="Kurta \u2028")
    # when
    built = products_json([product.pk, 999_999], _request())
    # then: a product that does not exist is left out
    loaded = Product.objects.select_related("category").get(pk=product.pk)
    expected = JSONRenderer().render(ProductSerializer(loaded, context={"request": _request()}).data)
    assert built == {product.pk: expected}


def test_fragments_are_read_in_one_round_trip_and_built_once(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given
    products = ProductFactory.create_batch(3)
    ids = [product.pk for product in products]
    with django_assert_num_queries(2):  # the products with their categories, then their children
        cold = product_fragments(ids, _request())
    # when
    with django_assert_num_queries(0):
        warm = product_fragments(ids, _request())
    # then
    assert cold == warm
    assert set(warm) == set(ids)
    assert json.loads(warm[ids[0]])["id"] == ids[0]


def test_a_fragment_of_another_catalog_version_is_not_served(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given
    product = ProductFactory.create()
    keys = catalog_cache.fragment_keys("http://testserver", [product.pk])
    product_fragments([product.pk], _request())
    assert catalog_cache.fragments_get(list(keys.values()))[2] == {
        keys[product.pk]: products_json([product.pk], _request())[product.pk]
    }
    # when: a catalog write commits
    with django_capture_on_commit_callbacks(execute=True):
        catalog_cache.catalog_changed()
    # then
    assert catalog_cache.fragments_get(list(keys.values()))[2] == {}


def test_a_fragment_built_under_an_older_stock_counter_is_served_within_the_staleness(
    settings: SettingsWrapper, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: a fragment built at t, then a stock change
    settings.CATALOG_STOCK_STALENESS_SECONDS = 5
    product = ProductFactory.create()
    built = catalog_cache.time.time()
    product_fragments([product.pk], _request())
    keys = list(catalog_cache.fragment_keys("http://testserver", [product.pk]).values())
    with django_capture_on_commit_callbacks(execute=True):
        catalog_cache.stock_changed()
    # when / then
    assert len(catalog_cache.fragments_get(keys, now=built + 4)[2]) == 1
    assert catalog_cache.fragments_get(keys, now=built + 6)[2] == {}


def test_lost_counters_serve_nothing_and_start_again_from_the_clock() -> None:
    # given
    product = ProductFactory.create()
    product_fragments([product.pk], _request())
    version, _ = catalog_cache.versions()
    keys = list(catalog_cache.fragment_keys("http://testserver", [product.pk]).values())
    # when: the counters are evicted, the fragment is not
    catalog_cache.cache.delete_many([catalog_cache.VERSION_KEY, catalog_cache.STOCK_KEY])
    found = catalog_cache.fragments_get(keys)
    # then
    assert found[2] == {}
    assert found[0] >= version
    assert catalog_cache.versions()[0] == found[0]


def test_fragments_are_kept_per_scheme_and_host() -> None:
    assert catalog_cache.fragment_keys("http://a.example", [1]) != catalog_cache.fragment_keys(
        "https://a.example", [1]
    )
    assert catalog_cache.fragment_keys("http://a.example", [1]) != catalog_cache.fragment_keys(
        "http://b.example", [1]
    )
