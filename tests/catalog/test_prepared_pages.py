"""Which catalog statements are prepared (shopapi/db.py): a plain page's (only the order and the
cursor shape it) and the variants read by product ids, never a filtered page's or a search's,
whose plans depend on their values."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.models import Category
from tests.factories import ProductFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]  # PostgreSQL's prepared statements

PRODUCTS = "/api/v1/products/"
UNCACHED = {"utm_source": "test"}  # a parameter no cached page carries: every request reads the database


def _prepared(prefix: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"{prefix}%"])
        return int(cursor.fetchone()[0])


PAGE = 'SELECT "catalog_product"."id"'
CHILDREN = "SELECT v.product_id"


@pytest.fixture
def client() -> APIClient:
    category = Category.objects.create(name="Tea", slug="tea")
    for index in range(3):
        ProductFactory.create(name=f"Green tea {index}", category=category, unit_amount=100 * (index + 1))
    return APIClient()


def test_a_plain_page_and_its_variants_are_prepared_and_reused(client: APIClient) -> None:
    # when: the first page twice, in two orders, and a second page by its cursor
    first = [client.get(PRODUCTS, {**UNCACHED, "page_size": "2"}) for _ in range(2)]
    client.get(PRODUCTS, {**UNCACHED, "page_size": "2", "ordering": "unit_amount"})
    following = client.get(first[0].json()["next"])

    # then: the same answers; one statement per shape (first page, cursor page, other order)
    assert first[0].content == first[1].content
    assert following.status_code == 200
    assert len(following.json()["results"]) == 1
    assert _prepared(PAGE) == 3
    assert _prepared(CHILDREN) == 2  # two products a page, then one


@pytest.mark.parametrize(
    "query",
    [{"category": "tea"}, {"min_price": "150"}, {"in_stock": "true"}, {"search": "green"}],
)
def test_a_filtered_page_or_a_search_is_not_prepared(client: APIClient, query: dict[str, str]) -> None:
    # when
    answers = [client.get(PRODUCTS, {**UNCACHED, **query}) for _ in range(2)]

    # then: answered, but its statement planned each time for its values
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["results"]
    assert _prepared(PAGE) == 0
