"""Carts API: open cart, lines, server-side totals, ownership (404), read-only checked-out carts."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.test import override_settings
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Category, Product, ProductVariant
from checkout.models import Cart, CartItem
from tests.factories import CartFactory, CartItemFactory, ProductFactory

if TYPE_CHECKING:
    from rest_framework.response import _MonkeyPatchedResponse

pytestmark = pytest.mark.django_db

CARTS = "/api/v1/carts/"
ERROR_KEYS = {"code", "message", "fields"}
LINE_KEYS = {"id", "product", "variant", "quantity", "unit_amount", "line_total"}
PRODUCT_KEYS = {
    "id",
    "slug",
    "name",
    "description",
    "unit_amount",
    "currency",
    "category",
    "image_url",
    "is_active",
    "in_stock",
    "options",
    "variants",
    "images",
}


def cart_url(cart: Cart) -> str:
    return f"{CARTS}{cart.id}/"


def items_url(cart: Cart) -> str:
    return f"{CARTS}{cart.id}/items/"


def item_url(cart: Cart, item: CartItem) -> str:
    return f"{CARTS}{cart.id}/items/{item.pk}/"


def assert_error(
    response: _MonkeyPatchedResponse, status: int, code: str | None = None, field: str | None = None
) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    if code is not None:
        assert body["code"] == code
    if field is not None:
        assert field in body["fields"], body
    return body


@pytest.fixture
def cart(user: User) -> Cart:
    return CartFactory.create(user=user)


@pytest.fixture
def product() -> Product:
    return ProductFactory.create(unit_amount=25_000)


# --- POST /carts/ -----------------------------------------------------------------------------


def test_create_opens_a_cart_then_returns_it(auth_client: APIClient, user: User) -> None:
    # given
    assert not Cart.objects.filter(user=user).exists()
    # when
    first = auth_client.post(CARTS)
    second = auth_client.post(CARTS)
    # then
    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    body = first.json()
    assert {"id", "status", "items", "total_amount", "currency", "item_count"} <= set(body)
    assert body["token"] is None  # a user's cart has no guest token
    assert body["status"] == "open"
    assert body["items"] == []
    assert body["total_amount"] == 0
    assert body["item_count"] == 0
    assert Cart.objects.filter(user=user).count() == 1


@override_settings(DEFAULT_CURRENCY="usd")
def test_empty_cart_currency_is_the_default_currency(auth_client: APIClient) -> None:
    # when
    response = auth_client.post(CARTS)
    # then
    assert response.status_code == 201
    assert response.json()["currency"] == "usd"


def test_create_returns_existing_open_cart_with_its_lines(
    auth_client: APIClient, cart: Cart, product: Product
) -> None:
    # given
    CartItemFactory.create(cart=cart, product=product, quantity=2)
    # when
    response = auth_client.post(CARTS)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(cart.id)
    assert body["item_count"] == 2
    assert body["total_amount"] == 50_000


def test_create_after_checkout_opens_a_new_cart(auth_client: APIClient, user: User) -> None:
    # given
    old = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    # when
    response = auth_client.post(CARTS)
    # then
    assert response.status_code == 201
    assert response.json()["id"] != str(old.id)
    assert Cart.objects.filter(user=user, status=Cart.Status.OPEN).count() == 1


def test_create_does_not_return_someone_elses_open_cart(auth_client: APIClient, other_user: User) -> None:
    # given
    theirs = CartFactory.create(user=other_user)
    # when
    response = auth_client.post(CARTS)
    # then
    assert response.status_code == 201
    assert response.json()["id"] != str(theirs.id)


# --- GET ----------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_carts(auth_client: APIClient, user: User, other_user: User) -> None:
    # given
    mine_old = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    mine_open = CartFactory.create(user=user)
    CartFactory.create(user=other_user)
    # when
    response = auth_client.get(CARTS)
    # then
    assert response.status_code == 200
    assert {c["id"] for c in response.json()} == {str(mine_old.id), str(mine_open.id)}


def test_detail_shape_and_server_side_totals(auth_client: APIClient, cart: Cart) -> None:
    # given
    a = ProductFactory.create(unit_amount=10_000)
    b = ProductFactory.create(unit_amount=333)
    CartItemFactory.create(cart=cart, product=a, quantity=3)
    CartItemFactory.create(cart=cart, product=b, quantity=2)
    # when
    response = auth_client.get(cart_url(cart))
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(cart.id)
    assert body["currency"] == "inr"
    assert body["total_amount"] == 30_000 + 666
    assert body["item_count"] == 5  # sum of quantities, not number of lines
    lines = body["items"]
    assert [line["product"]["id"] for line in lines] == [a.pk, b.pk]
    assert set(lines[0]) == LINE_KEYS
    assert set(lines[0]["product"]) == PRODUCT_KEYS
    assert lines[0]["product"]["category"]["slug"] == cast(Category, a.category).slug
    assert (lines[0]["unit_amount"], lines[0]["quantity"], lines[0]["line_total"]) == (10_000, 3, 30_000)
    assert (lines[1]["unit_amount"], lines[1]["quantity"], lines[1]["line_total"]) == (333, 2, 666)


def test_detail_follows_current_product_price(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given
    CartItemFactory.create(cart=cart, product=product, quantity=2)
    assert auth_client.get(cart_url(cart)).json()["total_amount"] == 50_000
    # when: staff change the price (it lives on the variant)
    ProductVariant.objects.filter(product=product).update(unit_amount=30_000)
    response = auth_client.get(cart_url(cart))
    # then
    assert response.json()["total_amount"] == 60_000
    assert response.json()["items"][0]["unit_amount"] == 30_000


def test_malformed_or_unknown_cart_id_is_404(auth_client: APIClient) -> None:
    # when
    malformed = auth_client.get(f"{CARTS}not-a-uuid/")
    unknown = auth_client.get(f"{CARTS}{uuid.uuid4()}/")
    # then
    assert_error(malformed, 404)
    assert_error(unknown, 404, code="cart_not_found")


def _build_cart(user: User, lines: int, status: str = Cart.Status.OPEN) -> Cart:
    cart = CartFactory.create(user=user, status=status)
    for _ in range(lines):
        CartItemFactory.create(cart=cart, quantity=2)
    return cart


@pytest.mark.parametrize("lines", [1, 50])
def test_detail_query_count_is_constant(
    auth_client: APIClient, user: User, lines: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    cart = _build_cart(user, lines)
    # when
    with django_assert_max_num_queries(4):  # JWT user, cart, lines+products+categories, variants+images
        response = auth_client.get(cart_url(cart))
    # then
    assert response.status_code == 200
    assert len(response.json()["items"]) == lines


@pytest.mark.parametrize("carts", [1, 50])
def test_list_query_count_is_constant(
    auth_client: APIClient, user: User, carts: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    for index in range(carts):
        _build_cart(user, 2, status=Cart.Status.OPEN if index == 0 else Cart.Status.CHECKED_OUT)
    # when
    with django_assert_max_num_queries(4):  # JWT user, carts, lines+products+categories, variants+images
        response = auth_client.get(CARTS)
    # then
    assert response.status_code == 200
    assert len(response.json()) == carts
    assert all(len(c["items"]) == 2 for c in response.json())


# --- POST /carts/{id}/items/ ------------------------------------------------------------------


def test_add_creates_a_line(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # when
    response = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 3})
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == LINE_KEYS
    assert body["product"]["id"] == product.pk
    assert (body["quantity"], body["unit_amount"], body["line_total"]) == (3, 25_000, 75_000)
    item = CartItem.objects.get(cart=cart)
    assert (item.pk, item.product_id, item.quantity) == (body["id"], product.pk, 3)


def test_add_increments_an_existing_line(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    # when
    response = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 5})
    # then
    assert response.status_code == 201
    assert response.json()["id"] == item.pk
    assert response.json()["quantity"] == 7
    assert CartItem.objects.filter(cart=cart).count() == 1
    item.refresh_from_db()
    assert item.quantity == 7


def test_add_increment_over_the_line_maximum_is_rejected_and_line_unchanged(
    auth_client: APIClient, cart: Cart, product: Product
) -> None:
    # given
    item = CartItemFactory.create(cart=cart, product=product, quantity=98)
    # when
    response = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 2})
    # then
    assert_error(response, 400, code="quantity_too_large", field="quantity")
    item.refresh_from_db()
    assert item.quantity == 98


@override_settings(CART_MAX_QUANTITY=5)
def test_line_maximum_follows_the_setting(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # when
    too_many = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 6})
    just_enough = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 5})
    # then
    assert_error(too_many, 400, field="quantity")
    assert just_enough.status_code == 201
    assert just_enough.json()["quantity"] == 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"product_id": "PRODUCT"}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": None}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": 0}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": -1}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": 1.5}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": 1.0}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": "3"}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": "abc"}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": True}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": [1]}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": 100}, "quantity"),
        ({"product_id": "PRODUCT", "quantity": 10**12}, "quantity"),
        ({"quantity": 1}, "product_id"),
        ({"product_id": "abc", "quantity": 1}, "product_id"),
        ({"product_id": "1", "quantity": 1}, "product_id"),
        ({"product_id": 0, "quantity": 1}, "product_id"),
        ({"product_id": -5, "quantity": 1}, "product_id"),
        ({"product_id": 10**30, "quantity": 1}, "product_id"),
        ({"product_id": 987_654_321, "quantity": 1}, "product_id"),
    ],
)
def test_add_bad_input_is_400_naming_the_field(
    auth_client: APIClient, cart: Cart, product: Product, payload: dict[str, Any], field: str
) -> None:
    # given
    payload = {k: (product.pk if v == "PRODUCT" else v) for k, v in payload.items()}
    # when
    response = auth_client.post(items_url(cart), payload)
    # then
    body = assert_error(response, 400, field=field)
    assert body["message"]
    assert not CartItem.objects.filter(cart=cart).exists()


def test_add_inactive_product_is_400_naming_product_id(auth_client: APIClient, cart: Cart) -> None:
    # given
    inactive = ProductFactory.create(is_active=False)
    # when
    response = auth_client.post(items_url(cart), {"product_id": inactive.pk, "quantity": 1})
    # then
    assert_error(response, 400, code="product_unavailable", field="product_id")
    assert not CartItem.objects.filter(cart=cart).exists()


def test_add_product_in_another_currency_is_400_naming_product_id(
    auth_client: APIClient, cart: Cart, product: Product
) -> None:
    # given
    CartItemFactory.create(cart=cart, product=product, quantity=1)
    dollars = ProductFactory.create(currency="usd")
    # when
    response = auth_client.post(items_url(cart), {"product_id": dollars.pk, "quantity": 1})
    # then
    body = assert_error(response, 400, code="currency_mismatch", field="product_id")
    assert str(dollars.pk) in body["message"]
    assert list(CartItem.objects.filter(cart=cart).values_list("product_id", flat=True)) == [product.pk]


def test_first_line_sets_the_cart_currency(auth_client: APIClient, cart: Cart) -> None:
    # given
    dollars = ProductFactory.create(currency="usd", unit_amount=500)
    # when
    response = auth_client.post(items_url(cart), {"product_id": dollars.pk, "quantity": 2})
    # then
    assert response.status_code == 201
    assert auth_client.get(cart_url(cart)).json()["currency"] == "usd"


def test_add_line_total_above_the_maximum_order_amount_is_400(auth_client: APIClient, cart: Cart) -> None:
    # given
    pricey = ProductFactory.create(unit_amount=50_000_000)
    # when
    response = auth_client.post(items_url(cart), {"product_id": pricey.pk, "quantity": 2})
    # then
    assert_error(response, 400, code="line_total_too_large", field="quantity")
    assert not CartItem.objects.filter(cart=cart).exists()


def test_add_increment_pushing_line_total_over_the_maximum_keeps_the_line(
    auth_client: APIClient, cart: Cart
) -> None:
    # given
    pricey = ProductFactory.create(unit_amount=40_000_000)
    item = CartItemFactory.create(cart=cart, product=pricey, quantity=2)
    # when
    response = auth_client.post(items_url(cart), {"product_id": pricey.pk, "quantity": 1})
    # then
    assert_error(response, 400, code="line_total_too_large", field="quantity")
    item.refresh_from_db()
    assert item.quantity == 2


def test_add_cart_total_above_the_maximum_order_amount_is_400(auth_client: APIClient, cart: Cart) -> None:
    # given
    CartItemFactory.create(cart=cart, product=ProductFactory.create(unit_amount=60_000_000), quantity=1)
    other = ProductFactory.create(unit_amount=50_000_000)
    # when
    response = auth_client.post(items_url(cart), {"product_id": other.pk, "quantity": 1})
    # then
    assert_error(response, 400, code="cart_total_too_large", field="quantity")
    assert CartItem.objects.filter(cart=cart).count() == 1


@override_settings(MAX_ORDER_AMOUNT=100_000)
def test_add_exactly_the_maximum_order_amount_is_allowed(auth_client: APIClient, cart: Cart) -> None:
    # given
    product = ProductFactory.create(unit_amount=25_000)
    # when
    response = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 4})
    # then
    assert response.status_code == 201
    assert auth_client.get(cart_url(cart)).json()["total_amount"] == 100_000


def test_add_to_unknown_cart_is_404(auth_client: APIClient, product: Product) -> None:
    # when
    response = auth_client.post(f"{CARTS}{uuid.uuid4()}/items/", {"product_id": product.pk, "quantity": 1})
    # then
    assert_error(response, 404, code="cart_not_found")


def test_add_touches_the_cart_updated_at(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given
    before = cart.updated_at
    # when
    auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 1})
    # then
    cart.refresh_from_db()
    assert cart.updated_at > before


# --- PATCH / DELETE /carts/{id}/items/{item_id}/ ----------------------------------------------


def test_update_sets_the_quantity(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    # when
    response = auth_client.patch(item_url(cart, item), {"quantity": 9})
    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == LINE_KEYS
    assert (body["id"], body["quantity"], body["line_total"]) == (item.pk, 9, 225_000)
    item.refresh_from_db()
    assert item.quantity == 9


@pytest.mark.parametrize("quantity", [None, 0, -3, 1.5, "2", "abc", 100, 10**12, False])
def test_update_bad_quantity_is_400_and_line_unchanged(
    auth_client: APIClient, cart: Cart, product: Product, quantity: float | str | None
) -> None:
    # given
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    # when
    response = auth_client.patch(item_url(cart, item), {"quantity": quantity})
    # then
    assert_error(response, 400, code="validation_error", field="quantity")
    item.refresh_from_db()
    assert item.quantity == 2


def test_update_without_quantity_is_400(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    # when
    response = auth_client.patch(item_url(cart, item), {})
    # then
    assert_error(response, 400, field="quantity")


def test_update_cart_total_over_the_maximum_is_400_and_line_unchanged(
    auth_client: APIClient, cart: Cart
) -> None:
    # given
    CartItemFactory.create(cart=cart, product=ProductFactory.create(unit_amount=60_000_000), quantity=1)
    item = CartItemFactory.create(
        cart=cart, product=ProductFactory.create(unit_amount=20_000_000), quantity=1
    )
    # when
    response = auth_client.patch(item_url(cart, item), {"quantity": 3})
    # then
    assert_error(response, 400, code="cart_total_too_large", field="quantity")
    item.refresh_from_db()
    assert item.quantity == 1


def test_update_unknown_or_malformed_line_is_404(auth_client: APIClient, cart: Cart) -> None:
    # when
    unknown = auth_client.patch(f"{items_url(cart)}987654/", {"quantity": 1})
    malformed = auth_client.patch(f"{items_url(cart)}abc/", {"quantity": 1})
    huge = auth_client.patch(f"{items_url(cart)}{10**30}/", {"quantity": 1})
    # then
    assert_error(unknown, 404, code="cart_item_not_found")
    assert_error(malformed, 404)
    assert_error(huge, 404)


def test_remove_deletes_the_line(auth_client: APIClient, cart: Cart, product: Product) -> None:
    # given
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    keep = CartItemFactory.create(cart=cart, quantity=1)
    # when
    response = auth_client.delete(item_url(cart, item))
    # then
    assert response.status_code == 204
    assert list(CartItem.objects.filter(cart=cart).values_list("pk", flat=True)) == [keep.pk]
    assert_error(auth_client.delete(item_url(cart, item)), 404, code="cart_item_not_found")


# --- checked-out carts are read-only ------------------------------------------------------------


@pytest.fixture
def checked_out(user: User, product: Product) -> tuple[Cart, CartItem]:
    cart = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    return cart, item


def test_checked_out_cart_is_readable(auth_client: APIClient, checked_out: tuple[Cart, CartItem]) -> None:
    # given
    cart, _ = checked_out
    # when
    response = auth_client.get(cart_url(cart))
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "checked_out"
    assert response.json()["item_count"] == 2


def test_checked_out_cart_rejects_add(
    auth_client: APIClient, checked_out: tuple[Cart, CartItem], product: Product
) -> None:
    # given
    cart, item = checked_out
    # when
    response = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 1})
    # then
    assert_error(response, 409, code="cart_checked_out")
    item.refresh_from_db()
    assert item.quantity == 2


def test_checked_out_cart_rejects_update_and_remove(
    auth_client: APIClient, checked_out: tuple[Cart, CartItem]
) -> None:
    # given
    cart, item = checked_out
    # when
    patched = auth_client.patch(item_url(cart, item), {"quantity": 5})
    deleted = auth_client.delete(item_url(cart, item))
    # then
    assert_error(patched, 409, code="cart_checked_out")
    assert_error(deleted, 409, code="cart_checked_out")
    item.refresh_from_db()
    assert item.quantity == 2


# --- authentication and ownership -------------------------------------------------------------


def test_an_anonymous_caller_reaches_no_users_cart(
    api_client: APIClient, cart: Cart, product: Product
) -> None:
    # given: a user's cart; an anonymous caller (guest carts need X-Cart-Token, API.md)
    item = CartItemFactory.create(cart=cart, product=product, quantity=1)
    calls = [
        ("get", cart_url(cart), None),
        ("post", items_url(cart), {"product_id": product.pk, "quantity": 1}),
        ("patch", item_url(cart, item), {"quantity": 3}),
        ("delete", item_url(cart, item), None),
        ("post", f"{cart_url(cart)}claim/", None),
    ]
    for method, url, payload in calls[:-1]:
        # when
        response = getattr(api_client, method)(url, payload)
        # then: exactly like someone else's cart
        assert_error(response, 404, code="cart_not_found")
    # and: the list is empty rather than a 401; claiming needs a JWT
    assert api_client.get(CARTS).json() == []
    method, url, payload = calls[-1]
    assert_error(getattr(api_client, method)(url, payload), 401, code="not_authenticated")
    item.refresh_from_db()
    assert item.quantity == 1


@pytest.fixture
def their_cart(other_user: User, product: Product) -> tuple[Cart, CartItem]:
    cart = CartFactory.create(user=other_user)
    item = CartItemFactory.create(cart=cart, product=product, quantity=2)
    return cart, item


def test_someone_elses_cart_is_404_on_read(auth_client: APIClient, their_cart: tuple[Cart, CartItem]) -> None:
    # given
    cart, _ = their_cart
    # when
    response = auth_client.get(cart_url(cart))
    # then
    assert_error(response, 404, code="cart_not_found")
    assert str(cart.id) not in response.content.decode()


def test_someone_elses_cart_is_404_on_every_write(
    auth_client: APIClient, their_cart: tuple[Cart, CartItem], product: Product
) -> None:
    # given
    cart, item = their_cart
    # when
    added = auth_client.post(items_url(cart), {"product_id": product.pk, "quantity": 1})
    patched = auth_client.patch(item_url(cart, item), {"quantity": 9})
    deleted = auth_client.delete(item_url(cart, item))
    checkout = auth_client.post(f"{cart_url(cart)}checkout/")
    # then
    for response in (added, patched, deleted, checkout):
        assert_error(response, 404)
    item.refresh_from_db()
    assert item.quantity == 2
    assert CartItem.objects.filter(cart=cart).count() == 1
    cart.refresh_from_db()
    assert cart.status == Cart.Status.OPEN
    assert not cart.orders.exists()


def test_someone_elses_line_through_my_cart_is_404(
    auth_client: APIClient, cart: Cart, their_cart: tuple[Cart, CartItem]
) -> None:
    # given
    _, their_item = their_cart
    # when
    patched = auth_client.patch(item_url(cart, their_item), {"quantity": 9})
    deleted = auth_client.delete(item_url(cart, their_item))
    # then
    assert_error(patched, 404, code="cart_item_not_found")
    assert_error(deleted, 404, code="cart_item_not_found")
    their_item.refresh_from_db()
    assert their_item.quantity == 2


def test_validation_does_not_reveal_whether_a_cart_exists(
    auth_client: APIClient, their_cart: tuple[Cart, CartItem]
) -> None:
    # given: no hint about the cart's existence leaks through validation order
    cart, _ = their_cart
    # when
    response = auth_client.post(items_url(cart), {"product_id": "abc", "quantity": 0})
    unknown = auth_client.post(f"{CARTS}{uuid.uuid4()}/items/", {"product_id": "abc", "quantity": 0})
    # then
    assert response.status_code == unknown.status_code
