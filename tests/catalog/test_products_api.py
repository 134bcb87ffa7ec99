"""Public product API: active-only list/detail, filters, search, query counts, ETags.

Ordering and keyset pages are in test_product_pages.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from catalog.cache import catalog_changed
from catalog.models import Product
from tests.catalog.products import PRODUCTS, detail_url, ids
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


# -- shape, active only, detail -----------------------------------------------------------


def test_list_shows_only_active_products_in_the_documented_shape(api_client: APIClient) -> None:
    # given
    category = CategoryFactory.create(name="Kitchen", slug="kitchen")
    shown = ProductFactory.create(
        name="Skillet", unit_amount=189_900, category=category, image_url="https://x.test/a.jpg"
    )
    ProductFactory.create(is_active=False)
    # when
    response = api_client.get(PRODUCTS)
    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert body["next"] is None
    assert body["previous"] is None
    assert body["results"] == [
        {
            "id": shown.id,
            "slug": shown.slug,
            "name": "Skillet",
            "description": shown.description,
            "unit_amount": 189_900,
            "currency": "inr",
            "category": {"id": category.id, "slug": "kitchen", "name": "Kitchen"},
            "image_url": "https://x.test/a.jpg",
            "is_active": True,
            "in_stock": True,
            "options": [],
            "variants": [
                {
                    "id": shown.variants.get().pk,
                    "sku": shown.slug,
                    "title": "Default",
                    "options": {},
                    "unit_amount": 189_900,
                    "currency": "inr",
                    "available_quantity": None,
                    "in_stock": True,
                }
            ],
            "images": [],
        }
    ]


def test_product_without_category_has_null_category(api_client: APIClient) -> None:
    # given
    product = ProductFactory.create(category=None)
    # when
    response = api_client.get(detail_url(product.id))
    # then
    assert response.status_code == 200
    assert response.json()["category"] is None


def test_detail_of_active_product(api_client: APIClient) -> None:
    # given
    product = ProductFactory.create()
    # when
    response = api_client.get(detail_url(product.id))
    # then
    assert response.status_code == 200
    assert response.json()["id"] == product.id
    assert response.json()["slug"] == product.slug


@pytest.mark.parametrize("product_id", ["inactive", "999999", "99999999999999999", "abc", "1.5"])
def test_detail_of_inactive_or_unknown_product_is_404_in_the_error_shape(
    api_client: APIClient, product_id: str
) -> None:
    # given
    inactive = ProductFactory.create(is_active=False)
    path = detail_url(inactive.id if product_id == "inactive" else product_id)
    # when
    response = api_client.get(path)
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert set(response.json()) == {"code", "message", "fields"}


def test_catalog_is_public_and_ignores_stale_tokens(api_client: APIClient) -> None:
    # given: a client sending a broken bearer token (e.g. an expired session in the app)
    product = ProductFactory.create()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    # when
    listed = api_client.get(PRODUCTS)
    detail = api_client.get(detail_url(product.id))
    categories = api_client.get("/api/v1/categories/")
    # then: browsing still works
    assert listed.status_code == 200
    assert detail.status_code == 200
    assert categories.status_code == 200


def test_catalog_is_read_only(api_client: APIClient, auth_client: APIClient) -> None:
    # given
    product = ProductFactory.create(name="Before")
    # when
    created = auth_client.post(PRODUCTS, {"name": "x"})
    patched = auth_client.patch(detail_url(product.id), {"name": "After"})
    deleted = api_client.delete(detail_url(product.id))
    # then
    assert created.status_code == 405
    assert patched.status_code == 405
    assert deleted.status_code == 405
    product.refresh_from_db()
    assert product.name == "Before"


# -- filters ------------------------------------------------------------------------------


def test_filter_by_category_slug(api_client: APIClient) -> None:
    # given
    kitchen = CategoryFactory.create(slug="kitchen")
    audio = CategoryFactory.create(slug="audio")
    pan = ProductFactory.create(category=kitchen)
    ProductFactory.create(category=audio)
    ProductFactory.create(category=kitchen, is_active=False)
    # when
    response = api_client.get(PRODUCTS, {"category": "kitchen"})
    # then
    assert response.status_code == 200
    assert ids(response.json()["results"]) == [pan.id]


def test_unknown_category_slug_gives_an_empty_list(api_client: APIClient) -> None:
    # given
    ProductFactory.create()
    # when
    response = api_client.get(PRODUCTS, {"category": "no-such-category"})
    # then
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_price_range_is_inclusive_in_minor_units(api_client: APIClient) -> None:
    # given
    cheap = ProductFactory.create(unit_amount=9_900)
    mid = ProductFactory.create(unit_amount=49_900)
    dear = ProductFactory.create(unit_amount=99_900)
    # when
    query: dict[str, str | int] = {"min_price": 9_900, "max_price": 49_900, "ordering": "unit_amount"}
    both = api_client.get(PRODUCTS, query)
    above = api_client.get(PRODUCTS, {"min_price": 49_901})
    below = api_client.get(PRODUCTS, {"max_price": 9_899})
    # then
    assert ids(both.json()["results"]) == [cheap.id, mid.id]
    assert ids(above.json()["results"]) == [dear.id]
    assert below.json()["results"] == []


def test_huge_price_bounds_are_not_a_server_error(api_client: APIClient) -> None:
    # given
    ProductFactory.create(unit_amount=9_900)
    # when
    response = api_client.get(PRODUCTS, {"min_price": 10**30})
    # then
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "1.5"}, "min_price"),
        ({"max_price": "ten"}, "max_price"),
        ({"max_price": "-100"}, "max_price"),
        ({"min_price": "500", "max_price": "100"}, "max_price"),
        ({"ordering": "slug"}, "ordering"),
        ({"ordering": "description"}, "ordering"),
        ({"ordering": "name,-unit_amount"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"category": "bad\x00slug"}, "category"),
        ({"search": "iron\x00"}, "search"),
        ({"search": "x" * 101}, "search"),
        ({"search": "abc b c d e f g h i"}, "search"),
        ({"search": "ab"}, "search"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    api_client: APIClient, params: dict[str, str], field: str
) -> None:
    # given
    ProductFactory.create()
    # when
    response = api_client.get(PRODUCTS, params)
    # then
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"]


# -- search -------------------------------------------------------------------------------


def test_search_matches_name_or_description_case_insensitively(api_client: APIClient) -> None:
    # given
    by_name = ProductFactory.create(name="Cast Iron Skillet", description="Heavy.")
    by_description = ProductFactory.create(name="Pan", description="A cast IRON classic.")
    ProductFactory.create(name="Headphones", description="Wireless.")
    ProductFactory.create(name="Iron skillet, old", is_active=False)
    # when
    response = api_client.get(PRODUCTS, {"search": "iron", "ordering": "name"})
    # then
    assert response.status_code == 200
    assert ids(response.json()["results"]) == [by_name.id, by_description.id]


def test_search_requires_every_word(api_client: APIClient) -> None:
    # given
    both = ProductFactory.create(name="Blue cotton shirt")
    ProductFactory.create(name="Blue mug")
    # when
    response = api_client.get(PRODUCTS, {"search": "cotton blue"})
    # then
    assert ids(response.json()["results"]) == [both.id]


def test_search_at_the_limits_is_accepted(api_client: APIClient) -> None:
    # given
    hit = ProductFactory.create(name="abc b c d e f g h")
    # when
    eight_words = api_client.get(PRODUCTS, {"search": "abc b c d e f g h"})
    hundred_chars = api_client.get(PRODUCTS, {"search": "abc" + " " * 97})
    # then
    assert ids(eight_words.json()["results"]) == [hit.id]
    assert hundred_chars.status_code == 200


def test_search_combines_with_filters(api_client: APIClient) -> None:
    # given
    kitchen = CategoryFactory.create(slug="kitchen")
    hit = ProductFactory.create(name="Steel kettle", category=kitchen, unit_amount=99_900)
    ProductFactory.create(name="Steel kettle deluxe", category=kitchen, unit_amount=299_900)
    ProductFactory.create(name="Steel bottle", unit_amount=99_900)
    # when
    query: dict[str, str | int] = {"search": "steel", "category": "kitchen", "max_price": 100_000}
    response = api_client.get(PRODUCTS, query)
    # then
    assert ids(response.json()["results"]) == [hit.id]


# -- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 50])
def test_list_is_two_queries_whatever_the_page(
    api_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given: products spread over several categories
    categories = CategoryFactory.create_batch(5)
    for i in range(count):
        ProductFactory.create(category=categories[i % 5])
    # when: the products, then their variants, options and images in one query
    with django_assert_max_num_queries(2):
        in_category: dict[str, str | int] = {"page_size": 100, "category": categories[0].slug}
        first = api_client.get(PRODUCTS, in_category)
    with django_assert_max_num_queries(2):
        by_price: dict[str, str | int] = {"page_size": 100, "ordering": "unit_amount"}
        page = api_client.get(PRODUCTS, by_price)
    # then
    assert len(page.json()["results"]) == count
    assert len(first.json()["results"]) == len([i for i in range(count) if i % 5 == 0])


@pytest.mark.parametrize("count", [1, 50])
def test_a_search_page_needs_no_query_per_row(
    api_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given: fewer products than a search window (tests/catalog/test_search.py has the split)
    categories = CategoryFactory.create_batch(5)
    for i in range(count):
        ProductFactory.create(category=categories[i % 5])
    # when: on PostgreSQL the window boundary, planner settings in a savepoint, the window
    with django_assert_max_num_queries(7):
        query: dict[str, str | int] = {"page_size": 100, "search": "Product", "category": categories[0].slug}
        found = api_client.get(PRODUCTS, query)
    # then
    assert len(found.json()["results"]) == len([i for i in range(count) if i % 5 == 0])


@pytest.mark.parametrize("count", [1, 50])
def test_following_a_cursor_is_two_queries(
    api_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given
    ProductFactory.create_batch(count + 1)
    next_url = api_client.get(PRODUCTS, {"page_size": 1}).json()["next"]
    # when
    with django_assert_max_num_queries(2):
        response = api_client.get(next_url.replace("page_size=1", "page_size=100"))
    # then
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 50])
def test_detail_is_two_queries(
    api_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given
    products = ProductFactory.create_batch(count)
    # when
    with django_assert_max_num_queries(2):
        response = api_client.get(detail_url(products[-1].id))
    # then
    assert response.status_code == 200


# -- conditional GET ----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["list", "detail"])
def test_etag_and_304_on_matching_if_none_match(api_client: APIClient, which: str) -> None:
    # given
    product = ProductFactory.create()
    path = PRODUCTS if which == "list" else detail_url(product.id)
    first = api_client.get(path)
    etag = first.headers["ETag"]
    # when
    again = api_client.get(path, HTTP_IF_NONE_MATCH=etag)
    # then
    assert first.status_code == 200
    assert etag
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("which", ["list", "detail"])
def test_etag_changes_when_the_product_changes(
    api_client: APIClient, which: str, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    product = ProductFactory.create(unit_amount=10_000)
    path = PRODUCTS if which == "list" else detail_url(product.id)
    etag = api_client.get(path).headers["ETag"]
    # when: a committed catalog write (every write path reports it: catalog/cache.py)
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=product.pk).update(unit_amount=12_000)
        catalog_changed()
    response = api_client.get(path, HTTP_IF_NONE_MATCH=etag)
    # then
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    body = response.json()
    amount = body["unit_amount"] if which == "detail" else body["results"][0]["unit_amount"]
    assert amount == 12_000
