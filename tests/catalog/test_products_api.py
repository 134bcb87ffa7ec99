"""Public product API: active-only list/detail, filters, search, ordering, keyset pages, ETags."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def _detail(product_id: int | str) -> str:
    return f"{PRODUCTS}{product_id}/"


def _walk(client, url: str, *, limit: int = 100) -> list[list[dict]]:
    """Follow `next` links from `url`; returns every page's results."""
    pages = []
    while url and len(pages) < limit:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body["results"])
        url = body["next"]
    return pages


def _ids(results: list[dict]) -> list[int]:
    return [row["id"] for row in results]


def _cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# -- shape, active only, detail -----------------------------------------------------------


def test_list_shows_only_active_products_in_the_documented_shape(api_client):
    # given
    category = CategoryFactory(name="Kitchen", slug="kitchen")
    shown = ProductFactory(
        name="Skillet", unit_amount=189_900, category=category, image_url="https://x.test/a.jpg"
    )
    ProductFactory(is_active=False)
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
        }
    ]


def test_product_without_category_has_null_category(api_client):
    # given
    product = ProductFactory(category=None)
    # when
    response = api_client.get(_detail(product.id))
    # then
    assert response.status_code == 200
    assert response.json()["category"] is None


def test_detail_of_active_product(api_client):
    # given
    product = ProductFactory()
    # when
    response = api_client.get(_detail(product.id))
    # then
    assert response.status_code == 200
    assert response.json()["id"] == product.id
    assert response.json()["slug"] == product.slug


@pytest.mark.parametrize("product_id", ["inactive", "999999", "99999999999999999", "abc", "1.5"])
def test_detail_of_inactive_or_unknown_product_is_404_in_the_error_shape(api_client, product_id):
    # given
    inactive = ProductFactory(is_active=False)
    path = _detail(inactive.id if product_id == "inactive" else product_id)
    # when
    response = api_client.get(path)
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert set(response.json()) == {"code", "message", "fields"}


def test_catalog_is_public_and_ignores_stale_tokens(api_client):
    # given: a client sending a broken bearer token (e.g. an expired session in the app)
    product = ProductFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    # when
    listed = api_client.get(PRODUCTS)
    detail = api_client.get(_detail(product.id))
    categories = api_client.get("/api/v1/categories/")
    # then: browsing still works
    assert listed.status_code == 200
    assert detail.status_code == 200
    assert categories.status_code == 200


def test_catalog_is_read_only(api_client, auth_client):
    # given
    product = ProductFactory(name="Before")
    # when
    created = auth_client.post(PRODUCTS, {"name": "x"})
    patched = auth_client.patch(_detail(product.id), {"name": "After"})
    deleted = api_client.delete(_detail(product.id))
    # then
    assert created.status_code == 405
    assert patched.status_code == 405
    assert deleted.status_code == 405
    product.refresh_from_db()
    assert product.name == "Before"


# -- filters ------------------------------------------------------------------------------


def test_filter_by_category_slug(api_client):
    # given
    kitchen = CategoryFactory(slug="kitchen")
    audio = CategoryFactory(slug="audio")
    pan = ProductFactory(category=kitchen)
    ProductFactory(category=audio)
    ProductFactory(category=kitchen, is_active=False)
    # when
    response = api_client.get(PRODUCTS, {"category": "kitchen"})
    # then
    assert response.status_code == 200
    assert _ids(response.json()["results"]) == [pan.id]


def test_unknown_category_slug_gives_an_empty_list(api_client):
    # given
    ProductFactory()
    # when
    response = api_client.get(PRODUCTS, {"category": "no-such-category"})
    # then
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_price_range_is_inclusive_in_minor_units(api_client):
    # given
    cheap = ProductFactory(unit_amount=9_900)
    mid = ProductFactory(unit_amount=49_900)
    dear = ProductFactory(unit_amount=99_900)
    # when
    both = api_client.get(PRODUCTS, {"min_price": 9_900, "max_price": 49_900, "ordering": "unit_amount"})
    above = api_client.get(PRODUCTS, {"min_price": 49_901})
    below = api_client.get(PRODUCTS, {"max_price": 9_899})
    # then
    assert _ids(both.json()["results"]) == [cheap.id, mid.id]
    assert _ids(above.json()["results"]) == [dear.id]
    assert below.json()["results"] == []


def test_huge_price_bounds_are_not_a_server_error(api_client):
    # given
    ProductFactory(unit_amount=9_900)
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
def test_bad_parameters_are_400_naming_the_field(api_client, params, field):
    # given
    ProductFactory()
    # when
    response = api_client.get(PRODUCTS, params)
    # then
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"]


# -- search -------------------------------------------------------------------------------


def test_search_matches_name_or_description_case_insensitively(api_client):
    # given
    by_name = ProductFactory(name="Cast Iron Skillet", description="Heavy.")
    by_description = ProductFactory(name="Pan", description="A cast IRON classic.")
    ProductFactory(name="Headphones", description="Wireless.")
    ProductFactory(name="Iron skillet, old", is_active=False)
    # when
    response = api_client.get(PRODUCTS, {"search": "iron", "ordering": "name"})
    # then
    assert response.status_code == 200
    assert _ids(response.json()["results"]) == [by_name.id, by_description.id]


def test_search_requires_every_word(api_client):
    # given
    both = ProductFactory(name="Blue cotton shirt")
    ProductFactory(name="Blue mug")
    # when
    response = api_client.get(PRODUCTS, {"search": "cotton blue"})
    # then
    assert _ids(response.json()["results"]) == [both.id]


def test_search_at_the_limits_is_accepted(api_client):
    # given
    hit = ProductFactory(name="abc b c d e f g h")
    # when
    eight_words = api_client.get(PRODUCTS, {"search": "abc b c d e f g h"})
    hundred_chars = api_client.get(PRODUCTS, {"search": "abc" + " " * 97})
    # then
    assert _ids(eight_words.json()["results"]) == [hit.id]
    assert hundred_chars.status_code == 200


def test_search_combines_with_filters(api_client):
    # given
    kitchen = CategoryFactory(slug="kitchen")
    hit = ProductFactory(name="Steel kettle", category=kitchen, unit_amount=99_900)
    ProductFactory(name="Steel kettle deluxe", category=kitchen, unit_amount=299_900)
    ProductFactory(name="Steel bottle", unit_amount=99_900)
    # when
    response = api_client.get(PRODUCTS, {"search": "steel", "category": "kitchen", "max_price": 100_000})
    # then
    assert _ids(response.json()["results"]) == [hit.id]


# -- ordering -----------------------------------------------------------------------------


def test_default_ordering_is_newest_first(api_client):
    # given
    old = ProductFactory()
    new = ProductFactory()
    Product.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    # when
    response = api_client.get(PRODUCTS)
    # then
    assert _ids(response.json()["results"]) == [new.id, old.id]


@pytest.mark.parametrize(
    ("ordering", "key", "descending"),
    [
        ("unit_amount", "unit_amount", False),
        ("-unit_amount", "unit_amount", True),
        ("name", "name", False),
        ("-name", "name", True),
        ("created_at", "created_at", False),
        ("-created_at", "created_at", True),
    ],
)
def test_each_whitelisted_ordering_sorts_with_id_tiebreak(api_client, ordering, key, descending):
    # given: duplicates on every sort key
    now = timezone.now()
    specs = [("b", 300, 2), ("a", 100, 1), ("c", 200, 3), ("a", 100, 1), ("b", 300, 2)]
    products = []
    for name, amount, days in specs:
        product = ProductFactory(name=name, unit_amount=amount)
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=days))
        products.append(Product.objects.get(pk=product.pk))
    expected = sorted(products, key=lambda p: (getattr(p, key), p.id), reverse=descending)
    # when
    pages = _walk(api_client, f"{PRODUCTS}?ordering={ordering}&page_size=2")
    # then
    assert [row["id"] for page in pages for row in page] == [p.id for p in expected]
    assert [len(page) for page in pages] == [2, 2, 1]


def test_equal_prices_across_pages_never_skip_or_repeat(api_client):
    # given: 23 products at one price and a few around it
    same = [ProductFactory(unit_amount=49_900) for _ in range(23)]
    low = ProductFactory(unit_amount=100)
    high = ProductFactory(unit_amount=99_900)
    # when
    pages = _walk(api_client, f"{PRODUCTS}?ordering=unit_amount&page_size=5")
    back = _walk(api_client, f"{PRODUCTS}?ordering=-unit_amount&page_size=4")
    # then
    seen = [row["id"] for page in pages for row in page]
    assert seen == [low.id, *sorted(p.id for p in same), high.id]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 5]
    assert [row["id"] for page in back for row in page] == list(reversed(seen))


def test_inserts_between_pages_do_not_shift_the_next_page(api_client):
    # given
    products = [ProductFactory(unit_amount=1_000 * (i + 1)) for i in range(6)]
    first = api_client.get(PRODUCTS, {"ordering": "unit_amount", "page_size": 3}).json()
    # when: something cheaper is added before the client asks for page two
    ProductFactory(unit_amount=10)
    second = api_client.get(first["next"]).json()
    # then
    assert _ids(first["results"]) == [p.id for p in products[:3]]
    assert _ids(second["results"]) == [p.id for p in products[3:]]


# -- pagination ---------------------------------------------------------------------------


def test_default_page_size_is_20(api_client):
    # given
    ProductFactory.create_batch(21)
    # when
    response = api_client.get(PRODUCTS)
    # then
    assert len(response.json()["results"]) == 20
    assert response.json()["next"] is not None


def test_page_size_over_100_is_capped(api_client):
    # given
    ProductFactory.create_batch(101)
    # when
    response = api_client.get(PRODUCTS, {"page_size": 101})
    # then
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert response.json()["next"] is not None


def test_last_page_has_no_next_and_previous_goes_back(api_client):
    # given
    products = sorted(ProductFactory.create_batch(5), key=lambda p: p.id, reverse=True)
    first = api_client.get(PRODUCTS, {"page_size": 3}).json()
    # when
    last = api_client.get(first["next"]).json()
    back = api_client.get(last["previous"]).json()
    # then
    assert _ids(last["results"]) == [p.id for p in products[3:]]
    assert last["next"] is None
    assert _ids(back["results"]) == [p.id for p in products[:3]]
    assert back["previous"] is None
    assert back["next"] is not None


def test_previous_links_walk_back_through_middle_pages(api_client):
    # given
    ProductFactory.create_batch(7)
    forward = []
    url = f"{PRODUCTS}?page_size=2&ordering=name"
    body = None
    while url:
        body = api_client.get(url).json()
        forward.append(_ids(body["results"]))
        url = body["next"]
    # when
    backward = []
    url = body["previous"]
    while url:
        page = api_client.get(url).json()
        backward.append(_ids(page["results"]))
        url = page["previous"]
    # then
    assert backward == list(reversed(forward[:-1]))


def test_filters_are_kept_in_next_links(api_client):
    # given
    kitchen = CategoryFactory(slug="kitchen")
    ProductFactory.create_batch(3, category=kitchen)
    ProductFactory.create_batch(3)
    # when
    pages = _walk(api_client, f"{PRODUCTS}?category=kitchen&page_size=2")
    # then
    assert sum(len(page) for page in pages) == 3


@pytest.mark.parametrize(
    "payload",
    [
        # made for another ordering than the request's
        {"o": ["unit_amount", "id"], "r": False, "p": [100, 1]},
        # a value of the wrong type for the field
        {"o": ["-created_at", "-id"], "r": False, "p": ["yesterday", 1]},
        {"o": ["-created_at", "-id"], "r": False, "p": ["2025-01-01T00:00:00+00:00", "x"]},
        {"o": ["-created_at", "-id"], "r": False, "p": ["2025-01-01T00:00:00+00:00", 10**30]},
        {"o": ["-created_at", "-id"], "r": "yes", "p": ["2025-01-01T00:00:00+00:00", 1]},
        {"o": ["-created_at", "-id"], "r": False, "p": ["2025-01-01T00:00:00+00:00"]},
        {"o": ["-created_at", "-id"], "r": False, "p": [None, 1]},
        {"o": ["-created_at", "-id"], "r": False},
        ["not", "an", "object"],
    ],
)
def test_tampered_cursor_is_400_not_500(api_client, payload):
    # given
    ProductFactory()
    # when
    response = api_client.get(PRODUCTS, {"cursor": _cursor(payload)})
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_cursor_with_nul_in_name_position_is_400(api_client):
    # given
    ProductFactory()
    # when
    response = api_client.get(
        PRODUCTS,
        {"ordering": "name", "cursor": _cursor({"o": ["name", "id"], "r": False, "p": ["a\x00", 1]})},
    )
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_cursor_from_a_different_ordering_is_rejected(api_client):
    # given
    ProductFactory.create_batch(3)
    next_url = api_client.get(PRODUCTS, {"page_size": 1, "ordering": "name"}).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    # when
    response = api_client.get(PRODUCTS, {"cursor": cursor, "ordering": "unit_amount"})
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


# -- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 50])
def test_list_is_one_query_whatever_the_page(api_client, django_assert_max_num_queries, count):
    # given: products spread over several categories
    categories = CategoryFactory.create_batch(5)
    for i in range(count):
        ProductFactory(category=categories[i % 5])
    # when
    with django_assert_max_num_queries(1):
        first = api_client.get(PRODUCTS, {"page_size": 100, "category": categories[0].slug})
    with django_assert_max_num_queries(1):
        page = api_client.get(PRODUCTS, {"page_size": 100, "ordering": "unit_amount"})
    # then
    assert len(page.json()["results"]) == count
    assert len(first.json()["results"]) == len([i for i in range(count) if i % 5 == 0])


@pytest.mark.parametrize("count", [1, 50])
def test_a_search_page_needs_no_query_per_row(api_client, django_assert_max_num_queries, count):
    # given: fewer products than a search window (tests/catalog/test_search.py has the split)
    categories = CategoryFactory.create_batch(5)
    for i in range(count):
        ProductFactory(category=categories[i % 5])
    # when: on PostgreSQL the window boundary, planner settings in a savepoint, the window
    with django_assert_max_num_queries(6):
        found = api_client.get(
            PRODUCTS, {"page_size": 100, "search": "Product", "category": categories[0].slug}
        )
    # then
    assert len(found.json()["results"]) == len([i for i in range(count) if i % 5 == 0])


@pytest.mark.parametrize("count", [1, 50])
def test_following_a_cursor_is_one_query(api_client, django_assert_max_num_queries, count):
    # given
    ProductFactory.create_batch(count + 1)
    next_url = api_client.get(PRODUCTS, {"page_size": 1}).json()["next"]
    # when
    with django_assert_max_num_queries(1):
        response = api_client.get(next_url.replace("page_size=1", "page_size=100"))
    # then
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 50])
def test_detail_is_one_query(api_client, django_assert_max_num_queries, count):
    # given
    products = ProductFactory.create_batch(count)
    # when
    with django_assert_max_num_queries(1):
        response = api_client.get(_detail(products[-1].id))
    # then
    assert response.status_code == 200


# -- conditional GET ----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["list", "detail"])
def test_etag_and_304_on_matching_if_none_match(api_client, which):
    # given
    product = ProductFactory()
    path = PRODUCTS if which == "list" else _detail(product.id)
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
def test_etag_changes_when_the_product_changes(api_client, which):
    # given
    product = ProductFactory(unit_amount=10_000)
    path = PRODUCTS if which == "list" else _detail(product.id)
    etag = api_client.get(path).headers["ETag"]
    # when
    Product.objects.filter(pk=product.pk).update(unit_amount=12_000)
    response = api_client.get(path, HTTP_IF_NONE_MATCH=etag)
    # then
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    body = response.json()
    amount = body["unit_amount"] if which == "detail" else body["results"][0]["unit_amount"]
    assert amount == 12_000
