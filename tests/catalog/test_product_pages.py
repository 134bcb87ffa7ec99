"""Public product API: the orderings, and keyset pages through them (next, previous, cursors)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product
from tests.catalog.products import PRODUCTS, cursor_for, ids, walk_next
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


# -- ordering -----------------------------------------------------------------------------


def test_default_ordering_is_newest_first(api_client: APIClient) -> None:
    # given
    old = ProductFactory.create()
    new = ProductFactory.create()
    Product.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    # when
    response = api_client.get(PRODUCTS)
    # then
    assert ids(response.json()["results"]) == [new.id, old.id]


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
def test_each_whitelisted_ordering_sorts_with_id_tiebreak(
    api_client: APIClient, ordering: str, key: str, descending: bool
) -> None:
    # given: duplicates on every sort key
    now = timezone.now()
    specs = [("b", 300, 2), ("a", 100, 1), ("c", 200, 3), ("a", 100, 1), ("b", 300, 2)]
    products = []
    for name, amount, days in specs:
        product = ProductFactory.create(name=name, unit_amount=amount)
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=days))
        products.append(Product.objects.get(pk=product.pk))
    expected = sorted(products, key=lambda p: (getattr(p, key), p.id), reverse=descending)
    # when
    pages = walk_next(api_client, f"{PRODUCTS}?ordering={ordering}&page_size=2")
    # then
    assert [row["id"] for page in pages for row in page] == [p.id for p in expected]
    assert [len(page) for page in pages] == [2, 2, 1]


def test_equal_prices_across_pages_never_skip_or_repeat(api_client: APIClient) -> None:
    # given: 23 products at one price and a few around it
    same = [ProductFactory.create(unit_amount=49_900) for _ in range(23)]
    low = ProductFactory.create(unit_amount=100)
    high = ProductFactory.create(unit_amount=99_900)
    # when
    pages = walk_next(api_client, f"{PRODUCTS}?ordering=unit_amount&page_size=5")
    back = walk_next(api_client, f"{PRODUCTS}?ordering=-unit_amount&page_size=4")
    # then
    seen = [row["id"] for page in pages for row in page]
    assert seen == [low.id, *sorted(p.id for p in same), high.id]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 5]
    assert [row["id"] for page in back for row in page] == list(reversed(seen))


def test_inserts_between_pages_do_not_shift_the_next_page(api_client: APIClient) -> None:
    # given
    products = [ProductFactory.create(unit_amount=1_000 * (i + 1)) for i in range(6)]
    query: dict[str, str | int] = {"ordering": "unit_amount", "page_size": 3}
    first = api_client.get(PRODUCTS, query).json()
    # when: something cheaper is added before the client asks for page two
    ProductFactory.create(unit_amount=10)
    second = api_client.get(first["next"]).json()
    # then
    assert ids(first["results"]) == [p.id for p in products[:3]]
    assert ids(second["results"]) == [p.id for p in products[3:]]


# -- pagination ---------------------------------------------------------------------------


def test_default_page_size_is_20(api_client: APIClient) -> None:
    # given
    ProductFactory.create_batch(21)
    # when
    response = api_client.get(PRODUCTS)
    # then
    assert len(response.json()["results"]) == 20
    assert response.json()["next"] is not None


def test_page_size_over_100_is_capped(api_client: APIClient) -> None:
    # given
    ProductFactory.create_batch(101)
    # when
    response = api_client.get(PRODUCTS, {"page_size": 101})
    # then
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert response.json()["next"] is not None


def test_last_page_has_no_next_and_previous_goes_back(api_client: APIClient) -> None:
    # given
    products = sorted(ProductFactory.create_batch(5), key=lambda p: p.id, reverse=True)
    first = api_client.get(PRODUCTS, {"page_size": 3}).json()
    # when
    last = api_client.get(first["next"]).json()
    back = api_client.get(last["previous"]).json()
    # then
    assert ids(last["results"]) == [p.id for p in products[3:]]
    assert last["next"] is None
    assert ids(back["results"]) == [p.id for p in products[:3]]
    assert back["previous"] is None
    assert back["next"] is not None


def test_previous_links_walk_back_through_middle_pages(api_client: APIClient) -> None:
    # given
    ProductFactory.create_batch(7)
    forward = []
    url = f"{PRODUCTS}?page_size=2&ordering=name"
    body = None
    while url:
        body = api_client.get(url).json()
        forward.append(ids(body["results"]))
        url = body["next"]
    # when
    backward = []
    assert body is not None
    url = body["previous"]
    while url:
        page = api_client.get(url).json()
        backward.append(ids(page["results"]))
        url = page["previous"]
    # then
    assert backward == list(reversed(forward[:-1]))


def test_filters_are_kept_in_next_links(api_client: APIClient) -> None:
    # given
    kitchen = CategoryFactory.create(slug="kitchen")
    ProductFactory.create_batch(3, category=kitchen)
    ProductFactory.create_batch(3)
    # when
    pages = walk_next(api_client, f"{PRODUCTS}?category=kitchen&page_size=2")
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
def test_tampered_cursor_is_400_not_500(api_client: APIClient, payload: object) -> None:
    # given
    ProductFactory.create()
    # when
    response = api_client.get(PRODUCTS, {"cursor": cursor_for(payload)})
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_cursor_with_nul_in_name_position_is_400(api_client: APIClient) -> None:
    # given
    ProductFactory.create()
    # when
    response = api_client.get(
        PRODUCTS,
        {"ordering": "name", "cursor": cursor_for({"o": ["name", "id"], "r": False, "p": ["a\x00", 1]})},
    )
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_cursor_from_a_different_ordering_is_rejected(api_client: APIClient) -> None:
    # given
    ProductFactory.create_batch(3)
    query: dict[str, str | int] = {"page_size": 1, "ordering": "name"}
    next_url = api_client.get(PRODUCTS, query).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    # when
    response = api_client.get(PRODUCTS, {"cursor": cursor, "ordering": "unit_amount"})
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]
