"""Public category list: `{next, previous, results: [{id, slug, name}]}` by name, cursor pages."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/categories/"


def test_categories_listed_by_name_in_the_documented_shape(api_client: APIClient) -> None:
    # given
    toys = CategoryFactory.create(name="Toys", slug="toys")
    audio = CategoryFactory.create(name="Audio", slug="audio")
    # when
    response = api_client.get(CATEGORIES)
    # then
    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {"id": audio.id, "slug": "audio", "name": "Audio"},
            {"id": toys.id, "slug": "toys", "name": "Toys"},
        ],
    }


def test_many_categories_come_in_pages_of_100(api_client: APIClient) -> None:
    # given
    created = CategoryFactory.create_batch(130)
    # when
    first = api_client.get(CATEGORIES).json()
    second = api_client.get(first["next"]).json()
    # then
    assert len(first["results"]) == 100
    assert len(second["results"]) == 30
    assert second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(ids) == sorted(c.id for c in created)


@pytest.mark.parametrize("count", [1, 50])
def test_category_list_is_one_query(
    api_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given
    CategoryFactory.create_batch(count)
    # when
    with django_assert_max_num_queries(1):
        response = api_client.get(CATEGORIES)
    # then
    assert len(response.json()["results"]) == count


def test_bad_category_cursor_is_400(api_client: APIClient) -> None:
    # given
    CategoryFactory.create()
    # when
    response = api_client.get(CATEGORIES, {"cursor": "%%%"})
    # then
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_categories_etag_and_304(api_client: APIClient) -> None:
    # given
    CategoryFactory.create()
    etag = api_client.get(CATEGORIES).headers["ETag"]
    # when
    response = api_client.get(CATEGORIES, HTTP_IF_NONE_MATCH=etag)
    # then
    assert response.status_code == 304
