"""PostgreSQL plans: search hits the trigram index, keyset pages hit the composite indexes.

The planner is told not to seq-scan (tables here are tiny); what is checked is that an index
*can* serve Django's own SQL: the trigram index is on exactly the expression
`IContains(SearchDocument(), word)` compiles to, and the cursor's row comparison is an index condition.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Value

from catalog.management.commands import seed_catalog
from catalog.models import Product
from catalog.search import search_condition
from catalog.selectors import product_list_active
from shopapi.pagination import RowComparison
from tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def _no_seqscan(*, no_sort: bool = False) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if no_sort:
            # Only an index that yields rows already in order can avoid a sort now.
            cursor.execute("SET LOCAL enable_sort = off")


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_product'")
        return {row[0] for row in cursor.fetchall()}


def test_search_sql_is_served_by_the_document_trigram_index() -> None:
    # given
    ProductFactory.create_batch(5)
    _no_seqscan()
    # the condition ProductSearchFilter builds for ?search=iron skillet
    condition = search_condition(["iron", "skillet"])
    # when
    plan = Product.objects.filter(condition).explain()
    # then: both words are conditions of one scan of the one index
    assert plan.count("product_search_document_trgm") == 1
    index_condition = plan.split("Index Cond:")[1].split("\n")[0]
    assert "%IRON%" in index_condition
    assert "%SKILLET%" in index_condition
    assert "Seq Scan" not in plan


def test_short_words_are_left_out_of_the_index_scan() -> None:
    # given
    ProductFactory.create_batch(5)
    _no_seqscan()
    # when: "pc" gives pg_trgm no trigram; as an index condition it would read the whole index
    plan = Product.objects.filter(search_condition(["puzzle", "pc"])).explain()
    # then
    index_condition = plan.split("Index Cond:")[1].split("\n")[0]
    assert "%PUZZLE%" in index_condition
    assert "%PC%" not in index_condition
    assert "%PC%" in plan.split("Filter:")[1]


def test_a_two_letter_word_beside_punctuation_is_an_index_condition() -> None:
    # given
    ProductFactory.create_batch(5)
    _no_seqscan()
    # when: "Wi-Fi" shows pg_trgm where "wi" ends and "fi" starts
    plan = Product.objects.filter(search_condition(["wi-fi"])).explain()
    # then
    assert "%WI-FI%" in plan.split("Index Cond:")[1].split("\n")[0]


@pytest.mark.parametrize(
    ("ordering", "op", "index"),
    [
        (("unit_amount", "id"), ">", "product_active_price_idx"),
        (("-unit_amount", "-id"), "<", "product_active_price_idx"),
        (("name", "id"), ">", "product_active_name_idx"),
        (("-created_at", "-id"), "<", "product_active_created_idx"),
    ],
)
def test_keyset_page_is_an_index_range_scan(ordering: tuple[str, str], op: str, index: str) -> None:
    # given
    product = ProductFactory.create()
    _no_seqscan(no_sort=True)
    first = ordering[0].lstrip("-")
    position = RowComparison(
        [F(first), F("id")], [Value(getattr(product, first)), Value(product.id)], operator=op
    )
    # when
    plan = product_list_active().filter(position).order_by(*ordering)[:21].explain()
    # then: the cursor is part of the index condition, not a filter over the whole table
    assert index in plan
    assert "Index Cond" in plan
    assert "ROW(" in plan.split("Index Cond")[1].split("\n")[0]
    assert "Sort" not in plan


def test_bulk_load_drops_and_rebuilds_the_secondary_indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a load big enough (for this test) to take the bulk path
    monkeypatch.setattr(seed_catalog, "BULK_LOAD_ROWS", 10)
    before = _index_names()
    dropped: list[list[str]] = []
    original = seed_catalog.Command._drop_secondary_indexes

    def spy() -> list[str]:
        dropped.append(original())
        assert not {"product_search_document_trgm", "product_active_price_idx"} & _index_names()
        return dropped[-1]

    monkeypatch.setattr(seed_catalog.Command, "_drop_secondary_indexes", staticmethod(spy))
    # when
    call_command("seed_catalog", products=50, categories=3, batch_size=7, verbosity=0)
    # then
    assert Product.objects.count() == 50
    assert len(dropped) == 1
    assert len(dropped[0]) >= 5  # 3 composite, 1 trigram, category FK, slug pattern index
    assert _index_names() == before
    assert {"product_search_document_trgm", "product_active_price_idx"} <= before
