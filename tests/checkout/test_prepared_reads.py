"""The cart read and the order page run their one data query as a prepared statement
(shopapi/db.py): prepared on a connection's first request, reused after, the same answer."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from tests.checkout.backoffice import make_order
from tests.checkout.guests import CARTS
from tests.factories import CartFactory, CartItemFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]  # PostgreSQL's prepared statements


def _prepared_containing(fragment: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"]
        )
        return int(cursor.fetchone()[0])


def test_the_order_page_query_is_prepared_once(auth_client: APIClient, user: User, other_user: User) -> None:
    # given: orders of two users
    for buyer in (user, user, other_user):
        make_order(buyer)

    # when: the page three times, the second page too
    answers = [auth_client.get("/api/v1/orders/", {"page_size": 50}) for _ in range(3)]
    auth_client.get("/api/v1/orders/", {"page_size": 1})

    # then: the same answer each time, from one prepared statement per page size (Django writes
    # the LIMIT into the SQL)
    assert {a.status_code for a in answers} == {200}
    assert len(answers[0].json()["results"]) == 2
    assert answers[0].content == answers[1].content == answers[2].content
    assert _prepared_containing('FROM "checkout_order"') == 2


def test_the_cart_read_is_prepared_once(auth_client: APIClient, user: User) -> None:
    # given: two carts of the user's with lines
    carts = [CartFactory.create(user=user, status=status) for status in ("open", "checked_out")]
    for cart in carts:
        CartItemFactory.create(cart=cart, quantity=2)

    # when: each cart twice, and the list
    answers = [auth_client.get(f"{CARTS}{cart.pk}/") for cart in carts for _ in range(2)]
    listed = auth_client.get(CARTS)

    # then: the right carts, one prepared statement for one cart and one for the list
    assert [a.json()["id"] for a in answers] == [str(c.pk) for c in carts for _ in range(2)]
    assert answers[0].content == answers[1].content
    assert listed.status_code == 200
    assert _prepared_containing("WITH owned AS") == 2
