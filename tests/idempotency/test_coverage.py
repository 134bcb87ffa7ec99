"""Which requests the Idempotency-Key applies to, and what it costs the ones without it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from catalog.models import Product
from checkout.models import Cart
from idempotency import middleware
from idempotency.models import IdempotencyKey
from tests.conftest import client_for
from tests.factories import CartFactory, UserFactory
from tests.idempotency.conftest import KEY, ViewRuns, add, items_url, key_header, quantity_in
from tests.idempotency.urls import ClaimView

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

WEBHOOK = "/api/v1/payments/stripe/webhook/"
IDEMPOTENCY_MIDDLEWARE = "idempotency.middleware.IdempotencyMiddleware"


@pytest.mark.parametrize(
    "key",
    [
        "",
        " ",
        " leading-space",
        "trailing-space ",
        "x" * 256,
        "tab\tinside",
        "delete\x7f",
        "clé-non-ascii",
    ],
)
def test_a_key_that_is_not_1_to_255_printable_ascii_is_400(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns, key: str
) -> None:
    # when
    response = add(auth_client, cart, product, key=key)

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_idempotency_key"
    assert list(body["fields"]) == ["Idempotency-Key"]
    assert view_runs.count == 0
    assert quantity_in(cart) == 0
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["a", "x" * 255, "order 42 / retry #1", "~!@#$%^&*()_+{}|:<>?"])
def test_keys_of_1_to_255_printable_ascii_are_accepted(
    auth_client: APIClient, cart: Cart, product: Product, key: str
) -> None:
    # when
    first, again = add(auth_client, cart, product, key=key), add(auth_client, cart, product, key=key)

    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().key == key


def test_without_the_header_no_query_is_added(
    settings: SettingsWrapper,
    product: Product,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given: the same first add-to-cart for two users, measured once without the middleware at all
    first, second = UserFactory.create(), UserFactory.create()
    first_cart, second_cart = CartFactory.create(user=first), CartFactory.create(user=second)
    with_middleware = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = [name for name in with_middleware if name != IDEMPOTENCY_MIDDLEWARE]
    bare = client_for(first)
    add(bare, first_cart, product)  # warm up: caches filled
    add(bare, first_cart, product)
    with CaptureQueriesContext(connection) as baseline:
        assert add(bare, first_cart, product).status_code == 201
    baseline_count = len(baseline)  # now: the next request empties the log it reads from
    settings.MIDDLEWARE = with_middleware

    def no_database_work(**kwargs: object) -> None:
        raise AssertionError("a request without Idempotency-Key reached the key store")

    monkeypatch.setattr(middleware, "idempotency_key_claim", no_database_work)
    client = client_for(second)
    add(client, second_cart, product)
    add(client, second_cart, product)

    # when / then
    with django_assert_num_queries(baseline_count):
        assert add(client, second_cart, product).status_code == 201
    assert IDEMPOTENCY_MIDDLEWARE in settings.MIDDLEWARE
    assert not IdempotencyKey.objects.exists()


def test_the_payment_webhook_is_excluded() -> None:
    # given: an unsigned event, sent twice with one key
    client = APIClient()

    # when
    answers = [
        client.post(WEBHOOK, {"id": "evt_1"}, HTTP_STRIPE_SIGNATURE="t=1,v1=0", **key_header(KEY))
        for _ in range(2)
    ]

    # then: the view answered both times; nothing was stored
    assert [a.status_code for a in answers] == [400, 400]
    assert [a.json()["code"] for a in answers] == ["invalid_signature"] * 2
    assert all("Idempotent-Replayed" not in a for a in answers)
    assert not IdempotencyKey.objects.exists()


def test_reads_and_paths_outside_the_api_are_not_covered(auth_client: APIClient, cart: Cart) -> None:
    # when
    read = auth_client.get(f"/api/v1/carts/{cart.pk}/", **key_header(KEY))
    admin = Client().post("/admin/login/", {"username": "x", "password": "y"}, **key_header(KEY))

    # then
    assert read.status_code == 200
    assert admin.status_code == 200  # the login form again
    assert not IdempotencyKey.objects.exists()


def test_an_endpoint_added_later_is_covered_without_a_word(settings: SettingsWrapper) -> None:
    # given: an endpoint under /api/v1/ the middleware knows nothing about
    settings.ROOT_URLCONF = "tests.idempotency.urls"
    ClaimView.runs = 0
    client = APIClient()

    # when
    answers = [client.post("/api/v1/carts/claim/", {"token": "t"}, **key_header(KEY)) for _ in range(3)]

    # then
    assert ClaimView.runs == 1
    assert [a.status_code for a in answers] == [201] * 3
    assert {a.content for a in answers} == {b'{"claimed":1}'}
    assert {a["Location"] for a in answers} == {"/api/v1/carts/x/"}
    assert [a.get("Idempotent-Replayed") for a in answers] == [None, "true", "true"]


def test_a_replay_passes_out_through_the_other_middleware_like_the_first_answer(
    auth_client: APIClient, cart: Cart, product: Product
) -> None:
    # when
    first = add(auth_client, cart, product, key=KEY)
    again = add(auth_client, cart, product, key=KEY, quantity=1)

    # then: security headers again, and a request id of its own
    for header in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert again[header] == first[header]
    assert again["X-Request-ID"] != first["X-Request-ID"]
    assert items_url(cart) in first.wsgi_request.path
