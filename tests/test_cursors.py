"""Hand-made pagination cursors: every decoded value is checked before it reaches SQL.

A cursor is base64url JSON `{"o": ordering, "r": reverse, "p": position}` (see
`KeysetPagination.encode_cursor`). Anyone can craft one; whatever it holds, the answer is a page
or a 400 naming `cursor`, never a database error.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
ORDERS = "/api/v1/orders/"
UUID = "0b6f4d54-7c1c-4b8e-9b7e-2f0e0a6c3c11"
GOOD_TIME = "2024-05-01T10:00:00+00:00"


def cursor(ordering: list[str], position: list[Any], *, reverse: bool = False) -> str:
    payload = json.dumps({"o": ordering, "r": reverse, "p": position}, allow_nan=True)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


BAD_TIMES = [
    "2024-05-01T10:00:00+16:00",  # beyond PostgreSQL's ±15:59
    "2024-05-01T10:00:00-23:59",
    "2024-05-01T10:00:00",  # naive
    "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 once in UTC
    "2024-13-01T00:00:00+00:00",
    "2024-05-01T10:00:00+00:00" + " " * 5000,
    "NaN",
    17_000_000_000,
]
BAD_INTEGERS: list[Any] = [
    2**63,
    -(2**63) - 1,
    10**400,
    "9" * 5000,
    "NaN",
    "Infinity",
    1.5,
    float("nan"),
    float("inf"),
    True,
    None,
    [1],
    {"a": 1},
]


@pytest.mark.parametrize("bad_time", BAD_TIMES)
def test_products_bad_created_at_cursor_is_400(api_client: APIClient, bad_time: Any) -> None:
    # given
    ProductFactory.create()
    # when
    response = api_client.get(PRODUCTS, {"cursor": cursor(["-created_at", "-id"], [bad_time, 1])})
    # then
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"cursor": ["Invalid cursor."]}


@pytest.mark.parametrize("bad_id", BAD_INTEGERS)
def test_products_bad_id_cursor_is_400(api_client: APIClient, bad_id: Any) -> None:
    response = api_client.get(PRODUCTS, {"cursor": cursor(["-created_at", "-id"], [GOOD_TIME, bad_id])})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["fields"]


@pytest.mark.parametrize("bad_amount", [*BAD_INTEGERS, -1, 2**31])
def test_products_bad_unit_amount_cursor_is_400(api_client: APIClient, bad_amount: Any) -> None:
    response = api_client.get(
        PRODUCTS, {"ordering": "unit_amount", "cursor": cursor(["unit_amount", "id"], [bad_amount, 1])}
    )
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["fields"]


@pytest.mark.parametrize("bad_name", ["x" * 201, "a\x00b", 7, None, "\ud800"])
def test_products_bad_name_cursor_is_400(api_client: APIClient, bad_name: Any) -> None:
    response = api_client.get(PRODUCTS, {"ordering": "name", "cursor": cursor(["name", "id"], [bad_name, 1])})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["fields"]


@pytest.mark.parametrize("bad_time", BAD_TIMES)
def test_orders_bad_created_at_cursor_is_400(bad_time: Any) -> None:
    client = client_for(UserFactory.create())
    response = client.get(ORDERS, {"cursor": cursor(["-created_at", "-id"], [bad_time, UUID])})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["fields"]


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "x" * 5000, 12, None])
def test_orders_bad_id_cursor_is_400(bad_id: Any) -> None:
    client = client_for(UserFactory.create())
    response = client.get(ORDERS, {"cursor": cursor(["-created_at", "-id"], [GOOD_TIME, bad_id])})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["fields"]


def test_any_offset_within_range_reads_the_same_instant(api_client: APIClient) -> None:
    # given: three products; a cursor equal to the first page's, written with another UTC offset
    ProductFactory.create_batch(3)
    first = api_client.get(PRODUCTS, {"page_size": 1}).json()
    encoded = first["next"].split("cursor=")[1].split("&")[0]
    payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    moved = datetime.fromisoformat(payload["p"][0]).astimezone(timezone(timedelta(hours=5, minutes=30)))
    # when
    same = api_client.get(
        PRODUCTS, {"page_size": "1", "cursor": cursor(payload["o"], [moved.isoformat(), payload["p"][1]])}
    )
    via_next = api_client.get(first["next"])
    # then
    assert same.status_code == 200
    assert same.json()["results"] == via_next.json()["results"]
