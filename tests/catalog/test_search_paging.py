"""Product search pages, fetched in bounded steps on PostgreSQL.

The bounded fetch (`catalog.search.fetch_bounded`) splits a search page into a walk of the
first `SEARCH_WINDOW_ROWS` products in page order and an index lookup for the rest. Here the
window is shrunk to a few rows so that every split — all matches in the window, some, none, a
window longer than what is left — happens on a small table, and each page is compared with the
unsplit query's answer, forwards and backwards, in every ordering.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from catalog import filters as catalog_filters
from catalog import search as catalog_search
from catalog.models import Category, Product
from catalog.search import BoundedScan, fetch_bounded, normalize_terms, search_condition
from catalog.selectors import product_list_active
from tests.catalog.products import PRODUCTS, ids, search_ids
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_with_matches(monkeypatch: pytest.MonkeyPatch) -> list[Category]:
    """60 active products (plus inactive ones) in 3 categories; the window is 7 rows.

    "needle" is dense among the newest products and rare further back, "thread" is rare
    everywhere. Times come in threes and prices and names repeat, so every ordering has runs of
    equal values that straddle window boundaries (the id decides within a run).
    """
    monkeypatch.setattr(catalog_search, "SEARCH_WINDOW_ROWS", 7)
    categories = CategoryFactory.create_batch(3)
    start = timezone.now() - timedelta(days=1)
    needle_at = {59, 58, 57, 56, 55, 50, 41, 30, 12, 3}
    thread_at = {44, 21, 2}
    for i in range(60):
        words = []
        if i in needle_at:
            words.append("Needle")
        if i in thread_at:
            words.append("Thread")
        product = ProductFactory.create(
            name=" ".join([f"Item {i % 4}", *words]),
            description="needle-free" if i == 7 else "Plain.",  # "needle" in the description
            unit_amount=10_000 + (i % 5) * 500,
            category=categories[i % 3],
        )
        Product.objects.filter(pk=product.pk).update(created_at=start + timedelta(minutes=i // 3))
    ProductFactory.create_batch(3, name="Needle Thread (retired)", is_active=False)
    return categories


def _expected(search: str, ordering: tuple[str, ...], **filters: object) -> list[int]:
    queryset = product_list_active().filter(search_condition(normalize_terms(search.split())))
    return list(queryset.filter(**filters).order_by(*ordering).values_list("id", flat=True))


def _walk_both_ways(client: APIClient, params: Mapping[str, str | int]) -> tuple[list[int], list[int]]:
    """Every id going forward through `next`, then every id coming back through `previous`."""
    url: str | None
    pages, url, params = [], PRODUCTS, dict(params)
    response = None
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        pages.append(ids(response.json()["results"]))
        url, params = response.json()["next"], {}
    forward = [product_id for page in pages for product_id in page]
    backward_pages = [pages[-1]]
    url = response.json()["previous"] if response else None
    while url:
        response = client.get(url)
        backward_pages.insert(0, ids(response.json()["results"]))
        url = response.json()["previous"]
    backward = [product_id for page in backward_pages for product_id in page]
    return forward, backward


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        (None, ("-created_at", "-id")),
        ("-created_at", ("-created_at", "-id")),
        ("created_at", ("created_at", "id")),
        ("unit_amount", ("unit_amount", "id")),
        ("-unit_amount", ("-unit_amount", "-id")),
        ("name", ("name", "id")),
        ("-name", ("-name", "-id")),
    ],
)
@pytest.mark.parametrize("search", ["needle", "thread", "needle thread", "item needle", "nothing"])
@pytest.mark.parametrize("page_size", [2, 3, 100])
def test_every_page_is_the_unsplit_answer(
    api_client: APIClient,
    catalog_with_matches: list[Category],
    search: str,
    ordering: str | None,
    key: tuple[str, str],
    page_size: int,
) -> None:
    # given
    params: dict[str, str | int] = {
        "search": search,
        "page_size": page_size,
        **({"ordering": ordering} if ordering else {}),
    }
    expected = _expected(search, key)
    # when
    forward, backward = _walk_both_ways(api_client, params)
    # then
    assert forward == expected
    assert backward == expected


@pytest.mark.postgres_only
def test_the_split_holds_with_filters(api_client: APIClient, catalog_with_matches: list[Category]) -> None:
    # given
    category = catalog_with_matches[1]
    params: dict[str, str | int] = {
        "search": "needle",
        "category": category.slug,
        "min_price": 11_000,
        "page_size": 2,
    }
    expected = _expected(
        "needle", ("-created_at", "-id"), category__slug=category.slug, unit_amount__gte=11_000
    )
    # when
    forward, backward = _walk_both_ways(api_client, params)
    # then
    assert expected  # the filters leave some matches
    assert forward == expected
    assert backward == expected


def _product_selects(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "catalog_product"' in q["sql"]]


@pytest.mark.postgres_only
def test_dense_words_are_found_by_the_walk_alone(
    api_client: APIClient, catalog_with_matches: list[Category]
) -> None:
    # given: the 7 newest products hold 5 "needle" matches
    with CaptureQueriesContext(connection) as queries:
        # when
        found = search_ids(api_client, search="needle", page_size=3)
    # then: the boundary and the window, no index lookup
    selects = _product_selects(queries.captured_queries)
    settings = [q["sql"] for q in queries.captured_queries if "set_config" in q["sql"]]
    assert found == _expected("needle", ("-created_at", "-id"))[:3]
    assert len(selects) == 2
    assert len(settings) == 1
    assert "enable_bitmapscan" in settings[0]


@pytest.mark.postgres_only
def test_rare_words_go_on_to_the_index(api_client: APIClient, catalog_with_matches: list[Category]) -> None:
    # given: "thread" is not among the 7 newest products
    with CaptureQueriesContext(connection) as queries:
        # when
        found = search_ids(api_client, search="thread")
    # then: boundary, window, then the rest with plain index scans off and a time limit
    selects = _product_selects(queries.captured_queries)
    settings = [q["sql"] for q in queries.captured_queries if "set_config" in q["sql"]]
    assert found == _expected("thread", ("-created_at", "-id"))
    assert len(selects) == 3
    assert "enable_indexscan" in settings[1]
    assert "statement_timeout" in settings[1]


@pytest.mark.postgres_only
@pytest.mark.parametrize("count", [1, 50])
def test_a_search_page_costs_the_same_queries_whatever_the_rows(
    api_client: APIClient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    # given: nothing in the window matches, so all three steps run
    monkeypatch.setattr(catalog_search, "SEARCH_WINDOW_ROWS", 2)
    for i in range(count):
        ProductFactory.create(name=f"Lamp {i}")
    ProductFactory.create_batch(2)
    # when
    # 3 product queries, 2 settings, savepoints, resets, and the page's variants and images
    with django_assert_max_num_queries(12):
        found = search_ids(api_client, search="lamp", page_size=100)
    # then
    assert len(found) == count


def _sleeping(seconds: float) -> ExpressionWrapper:
    """A condition that is true after `seconds` of PostgreSQL time, once per row checked."""
    return ExpressionWrapper(RawSQL("pg_sleep(%s) IS NOT NULL", [seconds]), output_field=BooleanField())


def _newest_first(*names: str) -> list[Product]:
    """Products named `names`, the first the newest, one minute apart."""
    now = timezone.now()
    products = []
    for age, name in enumerate(names):
        product = ProductFactory.create(name=name)
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(minutes=age))
        products.append(product)
    return products


NEWEST_FIRST = ("-created_at", "-id")


@pytest.mark.postgres_only
def test_the_boundary_row_belongs_to_the_window() -> None:
    # given: a window of 3 whose only match is its last row, and one match after it
    _, _, boundary, _, older = _newest_first("a", "b", "Lamp boundary", "c", "Lamp older")
    scan = BoundedScan(base=product_list_active(), window_rows=3)
    queryset = product_list_active().filter(search_condition(["lamp"])).order_by(*NEWEST_FIRST)
    # when
    rows = fetch_bounded(queryset, scan, ordering=NEWEST_FIRST, after="<", limit=3)
    # then
    assert [row.pk for row in rows] == [boundary.pk, older.pk]


def _both_steps_see_their_settings() -> ExpressionWrapper:
    """True only while exactly one of the two planner switches is off (step 2: bitmap, 3: index)."""
    return ExpressionWrapper(
        RawSQL("current_setting('enable_bitmapscan') <> current_setting('enable_indexscan')", []),
        output_field=BooleanField(),
    )


def _current_settings() -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_bitmapscan'), current_setting('enable_indexscan'), "
            "current_setting('statement_timeout')"
        )
        return cursor.fetchone()


def _check_settings_apply_to_each_step_and_end_with_it() -> None:
    # given: 3 products and a window of 1, so both steps run
    products = _newest_first("x", "y", "z")
    scan = BoundedScan(base=product_list_active(), window_rows=1, timeout_ms=5000)
    queryset = product_list_active().filter(_both_steps_see_their_settings()).order_by(*NEWEST_FIRST)
    # when
    rows = fetch_bounded(queryset, scan, ordering=NEWEST_FIRST, after="<", limit=10)
    # then: every row was seen under its step's settings, and none of them is left over
    assert [row.pk for row in rows] == [p.pk for p in products]
    assert _current_settings() == ("on", "on", "0")


@pytest.mark.postgres_only
def test_settings_apply_inside_an_outer_transaction() -> None:
    _check_settings_apply_to_each_step_and_end_with_it()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_settings_apply_in_autocommit_as_in_production() -> None:
    _check_settings_apply_to_each_step_and_end_with_it()


def _check_the_index_step_is_cut_off_at_the_timeout() -> None:
    # given: 3 rows, a window of 1, and a filter that takes 0.2 s a row
    ProductFactory.create_batch(3)
    too_long = RuntimeError("too long")
    scan = BoundedScan(base=product_list_active(), window_rows=1, timeout_ms=50, too_long=too_long)
    queryset = product_list_active().filter(_sleeping(0.2))
    # when
    with pytest.raises(RuntimeError) as raised:
        fetch_bounded(queryset, scan, ordering=NEWEST_FIRST, after="<", limit=3)
    # then: the error is the scan's, the connection is still usable, the timeout is gone
    assert raised.value is too_long
    assert Product.objects.count() == 3
    assert _current_settings() == ("on", "on", "0")


@pytest.mark.postgres_only
def test_the_index_step_is_cut_off_at_the_timeout() -> None:
    _check_the_index_step_is_cut_off_at_the_timeout()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_index_step_is_cut_off_at_the_timeout_in_autocommit() -> None:
    _check_the_index_step_is_cut_off_at_the_timeout()


@pytest.mark.postgres_only
def test_a_search_that_runs_too_long_is_a_400(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    # given: a search whose index step takes longer than the limit
    settings.SEARCH_TIMEOUT_MS = 50
    monkeypatch.setattr(catalog_search, "SEARCH_WINDOW_ROWS", 1)
    ProductFactory.create_batch(3, name="Slow lamp")
    real_condition = catalog_filters.search_condition
    monkeypatch.setattr(
        catalog_filters, "search_condition", lambda terms: real_condition(terms) & Q(_sleeping(0.2))
    )
    # when
    response = api_client.get(PRODUCTS, {"search": "lamp"})
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "search_too_broad"
    assert list(body["fields"]) == ["search"]
    assert api_client.get(PRODUCTS).status_code == 200
