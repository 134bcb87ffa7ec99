"""Idempotency-Key in-process: a retried write runs once and gets its first answer back byte for byte."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Product
from checkout.models import Cart
from idempotency.models import IdempotencyKey
from tests.conftest import client_for
from tests.factories import CartFactory, ProductFactory, UserFactory
from tests.idempotency.conftest import KEY, ViewRuns, add, items_url, key_header, quantity_in

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

REGISTER = "/api/v1/auth/register/"


def test_add_to_cart_sent_five_times_with_one_key_adds_once(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns
) -> None:
    # given
    assert quantity_in(cart) == 0

    # when
    answers = [add(auth_client, cart, product, key=KEY) for _ in range(5)]

    # then
    assert quantity_in(cart) == 1
    assert view_runs.count == 1
    assert [a.status_code for a in answers] == [201] * 5
    assert {a.content for a in answers} == {answers[0].content}
    assert {a["Content-Type"] for a in answers} == {"application/json"}
    assert "Idempotent-Replayed" not in answers[0]
    assert [a["Idempotent-Replayed"] for a in answers[1:]] == ["true"] * 4
    assert IdempotencyKey.objects.get(key=KEY).status_code == 201


def test_without_a_key_every_retry_runs(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given / when: what the header prevents
    for _ in range(3):
        add(auth_client, cart, product)

    # then
    assert quantity_in(cart) == 3
    assert not IdempotencyKey.objects.exists()


def test_a_retried_register_answers_its_first_201(api_client: APIClient) -> None:
    # given
    body = {"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"}
    first = api_client.post(REGISTER, body, format="json", **key_header(KEY))

    # when
    again = api_client.post(REGISTER, body, format="json", **key_header(KEY))
    unkeyed = api_client.post(REGISTER, body, format="json")

    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert User.objects.filter(username="asha").count() == 1
    assert unkeyed.status_code == 400, "without the key the retry is refused: the user exists"


def test_a_kept_answer_with_tokens_is_sealed_at_rest(api_client: APIClient) -> None:
    # given: register answers with an access and a refresh token
    body = {"username": "ravi", "email": "ravi@example.com", "password": "a-long-passphrase-42"}
    first = api_client.post(REGISTER, body, format="json", **key_header(KEY))
    refresh = first.json()["refresh"]

    # when: someone reads the table
    row = IdempotencyKey.objects.get(key=KEY)
    stored = bytes(row.response_body)

    # then: no token in it, and a row tampered with does not replay
    assert refresh.encode() not in stored
    assert b"refresh" not in stored
    IdempotencyKey.objects.filter(pk=row.pk).update(response_body=stored[:-1] + bytes([stored[-1] ^ 1]))
    tampered = api_client.post(REGISTER, body, format="json", **key_header(KEY))
    assert tampered.status_code == 422
    assert refresh.encode() not in tampered.content


def test_register_with_the_same_key_and_another_password_is_422(api_client: APIClient) -> None:
    # given
    body = {"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"}
    first = api_client.post(REGISTER, body, format="json", **key_header(KEY))

    # when
    other = api_client.post(
        REGISTER, {**body, "password": "another-passphrase-43"}, format="json", **key_header(KEY)
    )

    # then
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other
    assert User.objects.filter(username="asha").count() == 1


@pytest.mark.parametrize("change", ["path", "method", "query"])
def test_the_same_key_on_another_request_is_422(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns, change: str
) -> None:
    # given
    assert add(auth_client, cart, product, key=KEY).status_code == 201
    body = {"product_id": product.pk, "quantity": 1}

    # when
    if change == "path":
        response = auth_client.post(f"/api/v1/carts/{uuid.uuid4()}/items/", body, **key_header(KEY))
    elif change == "method":
        response = auth_client.patch(items_url(cart), body, format="json", **key_header(KEY))
    else:
        response = auth_client.post(f"{items_url(cart)}?x=1", body, format="json", **key_header(KEY))

    # then
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert view_runs.count == 1
    assert quantity_in(cart) == 1


def test_a_4xx_answer_is_kept_and_replayed(auth_client: APIClient, cart: Cart, view_runs: ViewRuns) -> None:
    # given: the product is not for sale when the first request runs
    product = ProductFactory.create(is_active=False)
    first = add(auth_client, cart, product, key=KEY)
    Product.objects.filter(pk=product.pk).update(is_active=True)

    # when
    again = add(auth_client, cart, product, key=KEY)

    # then
    assert first.status_code == 400
    assert first.json()["code"] == "product_unavailable"
    assert (again.status_code, again.content) == (400, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert view_runs.count == 1
    assert quantity_in(cart) == 0


def test_a_retried_delete_answers_its_first_204_not_404(
    auth_client: APIClient, cart: Cart, product: Product
) -> None:
    # given
    line = add(auth_client, cart, product).json()["id"]
    url = f"{items_url(cart)}{line}/"
    first = auth_client.delete(url, **key_header(KEY))

    # when
    again = auth_client.delete(url, **key_header(KEY))
    unkeyed = auth_client.delete(url)

    # then
    assert (first.status_code, again.status_code, unkeyed.status_code) == (204, 204, 404)
    assert again.content == first.content == b""
    assert again.get("Content-Type") == first.get("Content-Type")
    assert again["Idempotent-Replayed"] == "true"


def test_the_same_key_from_different_callers_does_not_collide(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns
) -> None:
    # given: another user with a cart of their own
    other = UserFactory.create()
    other_cart = CartFactory.create(user=other)

    # when
    mine = add(auth_client, cart, product, key=KEY)
    theirs = add(client_for(other), other_cart, product, key=KEY)

    # then
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs
    assert (quantity_in(cart), quantity_in(other_cart)) == (1, 1)
    assert view_runs.count == 2
    assert IdempotencyKey.objects.filter(key=KEY).count() == 2


def test_anonymous_callers_are_told_apart_by_address() -> None:
    # given: two anonymous clients, one key
    body = {"email": "x@example.com", "password": "a-long-passphrase-42"}
    first, second = APIClient(REMOTE_ADDR="203.0.113.7"), APIClient(REMOTE_ADDR="203.0.113.8")

    # when
    a = first.post(REGISTER, {**body, "username": "one", "email": "one@example.com"}, **key_header(KEY))
    b = second.post(REGISTER, {**body, "username": "two", "email": "two@example.com"}, **key_header(KEY))

    # then
    assert (a.status_code, b.status_code) == (201, 201)
    assert User.objects.filter(username__in=["one", "two"]).count() == 2


def test_a_token_that_does_not_verify_is_not_taken_for_its_user(
    auth_client: APIClient, user: User, cart: Cart, product: Product
) -> None:
    # given: a key used by the user
    assert add(auth_client, cart, product, key=KEY).status_code == 201
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    # when
    response = add(forged, cart, product, key=KEY)

    # then: the view answered (401), no replay of the user's answer
    assert response.status_code == 401
    assert "Idempotent-Replayed" not in response
    assert quantity_in(cart) == 1
