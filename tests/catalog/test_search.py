"""Product search: what a word matches, which searches are refused, and the bounded page fetch.

The bounded fetch (`catalog.pagination.fetch_bounded`) splits a search page into a walk of the
first `SEARCH_WINDOW_ROWS` products in page order and an index lookup for the rest. Here the
window is shrunk to a few rows so that every split — all matches in the window, some, none, a
window longer than what is left — happens on a small table, and each page is compared with the
unsplit query's answer, forwards and backwards, in every ordering.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import filters as catalog_filters
from catalog import views as catalog_views
from catalog.models import Product
from catalog.pagination import BoundedScan, fetch_bounded
from catalog.search import is_indexed, normalize_terms, search_condition
from catalog.selectors import product_list_active
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def _ids(results: list[dict]) -> list[int]:
    return [row["id"] for row in results]


def _search(client, **params):
    response = client.get(PRODUCTS, params)
    assert response.status_code == 200, response.content
    return _ids(response.json()["results"])


# -- words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "indexed"),
    [
        ("abc", True),
        ("skillet", True),
        ("t-shirt", True),  # "shirt"
        ("20000", True),
        ("कुर्ता", True),  # letters and combining marks make one run
        ("wi-fi", True),  # pg_trgm sees where "wi" ends and "fi" starts
        ("tv-", True),
        ("tv", False),  # both ends are next to a wildcard
        ("pc", False),
        ("4k", False),
        ("a-b-c", False),  # single characters give no selective trigram
        ("---", False),
        ("", False),
    ],
)
def test_a_word_is_indexed_when_pg_trgm_can_extract_a_trigram(term, indexed):
    assert is_indexed(term) is indexed


def test_terms_are_normalized_to_single_spaces():
    assert normalize_terms(["tea  \t kettle", " ", "pan\x1f"]) == ["tea kettle", "pan"]


# -- what a search matches ----------------------------------------------------------------


def test_a_quoted_phrase_is_one_word(api_client):
    # given
    phrase = ProductFactory(name="Tea Kettle")
    ProductFactory(name="Kettle for tea")
    # when
    quoted = _search(api_client, search='"tea kettle"')
    spaced = _search(api_client, search='"tea    kettle"')
    words = _search(api_client, search="tea kettle", ordering="name")
    # then
    assert quoted == [phrase.id]
    assert spaced == [phrase.id]
    assert len(words) == 2


def test_a_phrase_does_not_match_across_the_name_and_the_description(api_client):
    # given: the name ends in "Black" and the description starts with "The"
    product = ProductFactory(name="Linen Shirt – Black", description="The linen shirt you wear daily.")
    # when
    across = _search(api_client, search='"black the"')
    inside = _search(api_client, search='"linen shirt you"')
    # then
    assert across == []
    assert inside == [product.id]


def test_a_short_word_narrows_a_search_with_a_longer_word(api_client):
    # given
    puzzle = ProductFactory(name="Jigsaw Puzzle 1000 pc")
    ProductFactory(name="Jigsaw Puzzle 500 pieces")
    ProductFactory(name="PC stand")  # has "pc" but not the long word
    # when
    found = _search(api_client, search="puzzle pc")
    # then
    assert found == [puzzle.id]


def test_a_two_letter_word_beside_punctuation_is_searchable(api_client):
    # given
    router = ProductFactory(name="Wi-Fi Router")
    ProductFactory(name="Wired Router")
    # when
    found = _search(api_client, search="wi-fi")
    # then
    assert found == [router.id]


@pytest.mark.parametrize("search", ["pc", "4k tv", "a b", "t-x", "é"])
def test_a_search_of_only_short_words_is_refused(api_client, search):
    # given
    ProductFactory(name="pc 4k tv a b é")
    # when
    response = api_client.get(PRODUCTS, {"search": search})
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"]["search"] == ["Include a word of at least 3 letters or digits."]


def test_a_blank_search_lists_everything(api_client):
    # given
    products = ProductFactory.create_batch(2)
    # when
    found = _search(api_client, search="  ,  ")
    # then
    assert sorted(found) == sorted(p.id for p in products)


def test_search_matches_non_latin_words(api_client):
    # given
    kurta = ProductFactory(name="सूती कुर्ता", description="हाथ से बना")
    ProductFactory(name="Cotton shirt")
    # when
    found = _search(api_client, search="कुर्ता")
    # then
    assert found == [kurta.id]


# -- the bounded page fetch (PostgreSQL) --------------------------------------------------


@pytest.fixture
def catalog_with_matches(monkeypatch):
    """60 active products (plus inactive ones) in 3 categories; the window is 7 rows.

    "needle" is dense among the newest products and rare further back, "thread" is rare
    everywhere. Times come in threes and prices and names repeat, so every ordering has runs of
    equal values that straddle window boundaries (the id decides within a run).
    """
    monkeypatch.setattr(catalog_views, "SEARCH_WINDOW_ROWS", 7)
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
        product = ProductFactory(
            name=" ".join([f"Item {i % 4}", *words]),
            description="needle-free" if i == 7 else "Plain.",  # "needle" in the description
            unit_amount=10_000 + (i % 5) * 500,
            category=categories[i % 3],
        )
        Product.objects.filter(pk=product.pk).update(created_at=start + timedelta(minutes=i // 3))
    ProductFactory.create_batch(3, name="Needle Thread (retired)", is_active=False)
    return categories


def _expected(search: str, ordering: tuple[str, ...], **filters) -> list[int]:
    queryset = product_list_active().filter(search_condition(normalize_terms(search.split())))
    return list(queryset.filter(**filters).order_by(*ordering).values_list("id", flat=True))


def _walk_both_ways(client, params: dict) -> tuple[list[int], list[int]]:
    """Every id going forward through `next`, then every id coming back through `previous`."""
    pages, url, params = [], PRODUCTS, dict(params)
    response = None
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        pages.append(_ids(response.json()["results"]))
        url, params = response.json()["next"], {}
    forward = [product_id for page in pages for product_id in page]
    backward_pages = [pages[-1]]
    url = response.json()["previous"] if response else None
    while url:
        response = client.get(url)
        backward_pages.insert(0, _ids(response.json()["results"]))
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
def test_every_page_is_the_unsplit_answer(api_client, catalog_with_matches, search, ordering, key, page_size):
    # given
    params = {"search": search, "page_size": page_size, **({"ordering": ordering} if ordering else {})}
    expected = _expected(search, key)
    # when
    forward, backward = _walk_both_ways(api_client, params)
    # then
    assert forward == expected
    assert backward == expected


@pytest.mark.postgres_only
def test_the_split_holds_with_filters(api_client, catalog_with_matches):
    # given
    category = catalog_with_matches[1]
    params = {"search": "needle", "category": category.slug, "min_price": 11_000, "page_size": 2}
    expected = _expected(
        "needle", ("-created_at", "-id"), category__slug=category.slug, unit_amount__gte=11_000
    )
    # when
    forward, backward = _walk_both_ways(api_client, params)
    # then
    assert expected  # the filters leave some matches
    assert forward == expected
    assert backward == expected


def _product_selects(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "catalog_product"' in q["sql"]]


@pytest.mark.postgres_only
def test_dense_words_are_found_by_the_walk_alone(api_client, catalog_with_matches):
    # given: the 7 newest products hold 5 "needle" matches
    with CaptureQueriesContext(connection) as queries:
        # when
        found = _search(api_client, search="needle", page_size=3)
    # then: the boundary and the window, no index lookup
    selects = _product_selects(queries.captured_queries)
    settings = [q["sql"] for q in queries.captured_queries if "set_config" in q["sql"]]
    assert found == _expected("needle", ("-created_at", "-id"))[:3]
    assert len(selects) == 2
    assert len(settings) == 1
    assert "enable_bitmapscan" in settings[0]


@pytest.mark.postgres_only
def test_rare_words_go_on_to_the_index(api_client, catalog_with_matches):
    # given: "thread" is not among the 7 newest products
    with CaptureQueriesContext(connection) as queries:
        # when
        found = _search(api_client, search="thread")
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
    api_client, django_assert_max_num_queries, monkeypatch, count
):
    # given: nothing in the window matches, so all three steps run
    monkeypatch.setattr(catalog_views, "SEARCH_WINDOW_ROWS", 2)
    for i in range(count):
        ProductFactory(name=f"Lamp {i}")
    ProductFactory.create_batch(2)
    # when
    with django_assert_max_num_queries(11):  # 3 product queries, 2 settings, savepoints, resets
        found = _search(api_client, search="lamp", page_size=100)
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
        product = ProductFactory(name=name)
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(minutes=age))
        products.append(product)
    return products


NEWEST_FIRST = ("-created_at", "-id")


@pytest.mark.postgres_only
def test_the_boundary_row_belongs_to_the_window():
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


def _check_settings_apply_to_each_step_and_end_with_it():
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
def test_settings_apply_inside_an_outer_transaction():
    _check_settings_apply_to_each_step_and_end_with_it()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_settings_apply_in_autocommit_as_in_production():
    _check_settings_apply_to_each_step_and_end_with_it()


def _check_the_index_step_is_cut_off_at_the_timeout():
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
def test_the_index_step_is_cut_off_at_the_timeout():
    _check_the_index_step_is_cut_off_at_the_timeout()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_index_step_is_cut_off_at_the_timeout_in_autocommit():
    _check_the_index_step_is_cut_off_at_the_timeout()


@pytest.mark.postgres_only
def test_a_search_that_runs_too_long_is_a_400(api_client, monkeypatch, settings):
    # given: a search whose index step takes longer than the limit
    settings.SEARCH_TIMEOUT_MS = 50
    monkeypatch.setattr(catalog_views, "SEARCH_WINDOW_ROWS", 1)
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
