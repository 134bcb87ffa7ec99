"""The cart answers written as bytes (checkout/serializers/cart_json.py) are the serializers' answers,
byte for byte, and cost a fixed number of queries, with the product fragments cached or not."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import User
from catalog.models import ProductImage, ProductOption, ProductVariant
from catalog.stock import StockLine, stock_reserve
from checkout.models import Cart
from checkout.ownership import Owner
from checkout.selectors.carts import cart_get_for_owner
from checkout.serializers.carts import CartClaimSerializer, CartSerializer
from checkout.services.claims import ClaimResult, cart_claim
from checkout.tokens import token_hash
from tests.checkout.backoffice import make_order
from tests.checkout.guests import CARTS, cart_token_client, guest_cart
from tests.checkout.stock_helpers import cart_with, sized_product
from tests.conftest import client_for
from tests.factories import CartFactory, CartItemFactory, ProductFactory, default_variant_of

pytestmark = pytest.mark.django_db

Answer = tuple[int, bytes, dict[str, str]]


def _answer(response: Any) -> Answer:
    headers = {name: value for name, value in response.headers.items() if name != "X-Request-ID"}
    return response.status_code, response.content, headers


def reference(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> Answer:
    """The answer of `call` through the serializers (what the endpoint answered before)."""
    with monkeypatch.context() as patched:
        patched.setattr("checkout.views.carts.plain_json", lambda request: False)
        return _answer(call())


def assert_same_as_the_serializers(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> bytes:
    """Cold (fragments built and stored), the serializers' answer, then warm (from the cache):
    the same status, bytes and headers each time."""
    cold = _answer(call())
    expected = reference(monkeypatch, call)
    warm = _answer(call())
    assert cold[0] == 200 or cold[0] == 201, cold
    assert cold == expected
    assert warm == expected
    return expected[1]


def rich_cart(user: User) -> Cart:
    """A cart of every kind of line: a variant with options, tracked stock (partly held) and
    images; an untracked product without images; an inactive product; an inactive variant; a
    variant with its own title; names needing escapes (non-ASCII, quotes, U+2028)."""
    shirt, sizes = sized_product(stock={"S": 3, "M": 10, "L": None})
    ProductImage.objects.create(product=shirt, image="products/back.png", alt="Back", position=2)
    ProductImage.objects.create(product=shirt, image="products/front.png", alt="Front “1”", position=1)
    stock_reserve(  # a pending order holds 4 of the 10 M
        order_id=make_order(status="pending").pk,
        lines=[StockLine(sizes["M"], 4, "M")],
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    plain = ProductFactory.create(name='सूती कुर्ता "quoted"\u2028line', description="tab\there")
    gone = ProductFactory.create(name="Discontinued", is_active=False)
    retired = ProductFactory.create(name="Retired variant")
    ProductVariant.objects.filter(product=retired).update(is_active=False, title="Old blue")
    titled = ProductFactory.create(name="Titled", category=None, default_variant=False)
    ProductOption.objects.create(product=titled, name="Colour", values=["Red"])
    red = ProductVariant.objects.create(
        product=titled, sku="TTL-RED", title="Crimson", options={"Colour": "Red"}, unit_amount=4_500
    )
    lines = [(sizes["M"], 2), (sizes["L"], 1), (red, 3)]
    lines += [(default_variant_of(product), 1) for product in (plain, gone, retired)]
    return cart_with(user, *lines)


# --------------------------------------------------------------------------- the same bytes


def test_a_cart_of_every_kind_of_line_is_answered_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, auth_client: APIClient, user: User
) -> None:
    # given
    cart = rich_cart(user)
    # when / then
    body = assert_same_as_the_serializers(monkeypatch, lambda: auth_client.get(f"{CARTS}{cart.pk}/"))
    assert b"\\u2028" in body  # the escapes were exercised
    assert "सूती".encode() in body
    assert b"http://testserver/media/products/front.png" in body


def test_an_empty_cart_and_a_cart_after_checkout_are_answered_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, auth_client: APIClient, user: User
) -> None:
    # given
    empty = CartFactory.create(user=user)
    done = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    CartItemFactory.create(cart=done, quantity=2)
    # when / then
    for path in (f"{CARTS}{empty.pk}/", f"{CARTS}{done.pk}/"):
        assert_same_as_the_serializers(monkeypatch, partial(auth_client.get, path))


def test_a_guest_cart_is_answered_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    _, sizes = sized_product(stock={"S": 1, "M": None})
    cart, token = guest_cart((sizes["S"], 1), (sizes["M"], 4))
    client = cart_token_client(token)
    # when / then
    assert_same_as_the_serializers(monkeypatch, lambda: client.get(f"{CARTS}{cart.pk}/"))
    assert_same_as_the_serializers(monkeypatch, lambda: client.get(CARTS))


def test_the_list_of_carts_is_answered_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, user: User, auth_client: APIClient
) -> None:
    # given: a checked-out cart and an open one sharing a product, a guest cart sent with them
    shared = ProductFactory.create()
    old = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    CartItemFactory.create(cart=old, product=shared, quantity=2)
    CartItemFactory.create(cart=old)
    rich_cart(user)
    _, token = guest_cart((default_variant_of(shared), 1))
    client = cart_token_client(token, client_for(user))
    # when / then
    body = assert_same_as_the_serializers(monkeypatch, lambda: client.get(CARTS))
    assert body.count(b'"status":') == 3
    assert_same_as_the_serializers(monkeypatch, lambda: APIClient().get(CARTS))  # no one: []


def test_an_open_cart_asked_for_again_is_answered_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, auth_client: APIClient, user: User
) -> None:
    # given: the caller's open cart exists (POST /carts/ answers it, 200)
    rich_cart(user)
    # when / then
    assert_same_as_the_serializers(monkeypatch, lambda: auth_client.post(CARTS))


def _request() -> Request:
    """A request to the test client's host (the embedded image URLs are built on it)."""
    return Request(APIRequestFactory().get("/", HTTP_HOST="testserver"))


def test_a_new_guest_cart_answers_its_token_as_the_serializer_does() -> None:
    # when: an anonymous POST opens a guest cart (its token is in this answer only)
    response = APIClient().post(CARTS)
    # then
    assert response.status_code == 201
    token = response.json()["token"]
    cart = cart_get_for_owner(cart_id=response.json()["id"], owner=Owner(cart_token_hash=token_hash(token)))
    serialized = CartSerializer(cart, context={"request": _request(), "cart_token": token}).data
    assert response.content == JSONRenderer().render(serialized)


def test_a_claim_answers_the_cart_and_the_capped_lines_as_the_serializer_does(
    monkeypatch: pytest.MonkeyPatch, user: User
) -> None:
    # given: the user has 98 of a size, the guest 5 more of it (capped at 99) and one other line
    _, sizes = sized_product(stock={"S": None, "M": 7})
    cart_with(user, (sizes["S"], 98))
    guest, token = guest_cart((sizes["S"], 5), (sizes["M"], 1))
    client = cart_token_client(token, client_for(user))
    results: list[ClaimResult] = []

    def claim(**kwargs: Any) -> ClaimResult:
        results.append(cart_claim(**kwargs))
        return results[-1]

    monkeypatch.setattr("checkout.views.carts.cart_claim", claim)
    # when
    response = client.post(f"{CARTS}{guest.pk}/claim/")
    # then: the bytes the claim serializer gives the merged cart and what was capped
    assert response.status_code == 200, response.content
    assert [line["reason"] for line in response.json()["capped"]] == ["max_quantity"]
    merged = cart_get_for_owner(cart_id=results[0].cart.pk, owner=user)
    context = {"request": _request(), "capped": results[0].capped}
    assert response.content == JSONRenderer().render(CartClaimSerializer(merged, context=context).data)


def test_an_indented_answer_is_still_the_serializers(auth_client: APIClient, user: User) -> None:
    # given
    cart = rich_cart(user)
    # when: a client asks for indented JSON (this module writes only the compact form)
    response = auth_client.get(f"{CARTS}{cart.pk}/", HTTP_ACCEPT="application/json; indent=2")
    # then
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "id"')
    assert response.json()["items"][0]["product"]["name"] == "T-shirt"


# --------------------------------------------------------------------------- queries


def _lines(user: User, count: int, status: str = Cart.Status.OPEN) -> Cart:
    cart = CartFactory.create(user=user, status=status)
    for _ in range(count):
        CartItemFactory.create(cart=cart, quantity=2)
    return cart


@pytest.mark.parametrize("lines", [1, 50])
def test_a_cart_costs_two_queries_warm_and_four_cold_whatever_its_lines(
    auth_client: APIClient, user: User, lines: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    cart = _lines(user, lines)
    # when: the JWT's user, the cart with its lines and their variants; then the products with
    # their categories and their variants, options and images, when they are not cached
    with django_assert_num_queries(4):
        cold = auth_client.get(f"{CARTS}{cart.pk}/")
    with django_assert_num_queries(2):
        warm = auth_client.get(f"{CARTS}{cart.pk}/")
    # then
    assert cold.content == warm.content
    assert len(warm.json()["items"]) == lines


@pytest.mark.parametrize("carts", [1, 20])
def test_the_list_costs_two_queries_warm_and_four_cold_whatever_its_carts(
    auth_client: APIClient, user: User, carts: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    for index in range(carts):
        _lines(user, 2, Cart.Status.CHECKED_OUT if index else Cart.Status.OPEN)
    # when
    with django_assert_num_queries(4):
        cold = auth_client.get(CARTS)
    with django_assert_num_queries(2):
        warm = auth_client.get(CARTS)
    # then
    assert cold.content == warm.content
    assert len(warm.json()) == carts


def test_a_guest_cart_costs_one_query_warm(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    # given
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    client = cart_token_client(token)
    client.get(f"{CARTS}{cart.pk}/")
    # when / then: no user to load; the cart and its lines
    with django_assert_num_queries(1):
        assert client.get(f"{CARTS}{cart.pk}/").status_code == 200


def test_a_cart_with_some_products_cached_reads_only_the_others(
    auth_client: APIClient, user: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given: one product's fragment is cached (it was in another cart that was read)
    cached, fresh = ProductFactory.create(), ProductFactory.create()
    other = _lines(user, 0, Cart.Status.CHECKED_OUT)
    CartItemFactory.create(cart=other, product=cached)
    auth_client.get(f"{CARTS}{other.pk}/")
    cart = CartFactory.create(user=user)
    CartItemFactory.create(cart=cart, product=cached)
    CartItemFactory.create(cart=cart, product=fresh)
    # when
    with django_assert_num_queries(4) as captured:
        response = auth_client.get(f"{CARTS}{cart.pk}/")
    # then: the products query asked for the missing one only
    products_sql = [q["sql"] for q in captured.captured_queries if 'FROM "catalog_product"' in q["sql"]]
    assert len(products_sql) == 1
    asked = re.search(r'"catalog_product"\."id" IN \(([^)]*)\)', products_sql[0])
    assert asked is not None
    assert {int(pk) for pk in asked.group(1).split(",")} == {fresh.pk}
    assert [line["product"]["id"] for line in response.json()["items"]] == [cached.pk, fresh.pk]


def test_someone_elses_cart_and_an_unknown_one_are_404(
    auth_client: APIClient, other_user: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    theirs = _lines(other_user, 1)
    # when
    with django_assert_num_queries(2):
        response = auth_client.get(f"{CARTS}{theirs.pk}/")
    unknown = auth_client.get(f"{CARTS}00000000-0000-0000-0000-000000000000/")
    # then
    assert (response.status_code, response.json()["code"]) == (404, "cart_not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "cart_not_found")
