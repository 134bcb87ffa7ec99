"""Who reaches a guest cart or a guest order (checkout/ownership.py): every miss is the same 404.

Another guest's token, a user's JWT without the token, a guest token on a user's cart, an order
token on another order and a merged cart's token all look exactly like a cart or order that does
not exist. Plus: the guest-cart throttle, the guest orders a verified account sees, and the
Idempotency-Key scope of a guest.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, CartItem, Order
from tests.checkout.conftest import checkout_url, make_cart
from tests.checkout.guests import (
    CARTS,
    ORDERS,
    cart_token_client,
    guest_cart,
    order_token_client,
    with_headers,
)
from tests.conftest import client_for
from tests.factories import ProductFactory, UserFactory, default_variant_of
from tests.stripe_fixtures import FakeStripeServer
from tests.throttle_rates import set_throttle_rates

if TYPE_CHECKING:
    from rest_framework.response import _MonkeyPatchedResponse

pytestmark = pytest.mark.django_db


def _cart_calls(client: APIClient, cart: Cart, line: CartItem) -> list[_MonkeyPatchedResponse]:
    """Every call on one cart: read, add, update, remove a line, check out."""
    base = f"{CARTS}{cart.pk}/"
    return [
        client.get(base),
        client.post(f"{base}items/", {"variant_id": line.variant_id, "quantity": 1}),
        client.patch(f"{base}items/{line.pk}/", {"quantity": 3}),
        client.delete(f"{base}items/{line.pk}/"),
        client.post(f"{base}checkout/", {"email": "x@example.com"}),
    ]


def _assert_all_cart_not_found(responses: list[_MonkeyPatchedResponse], reference: dict) -> None:
    for response in responses:
        assert response.status_code == 404, response.content
        assert response.json() == reference  # byte for byte what an unknown cart answers


@pytest.fixture
def missing_cart_answer() -> dict:
    """What an unknown cart id answers: the reference every miss must equal."""
    return dict(APIClient().get(f"{CARTS}{uuid.uuid4()}/").json())


def test_another_guests_token_a_wrong_token_and_none_are_all_404(missing_cart_answer: dict) -> None:
    # given: a guest cart with a line, and another guest's token
    variant = default_variant_of(ProductFactory.create())
    cart, _ = guest_cart((variant, 2))
    _, other_token = guest_cart()
    line = CartItem.objects.get(cart=cart)
    # when
    callers = [cart_token_client(other_token), cart_token_client("x" * 43), APIClient()]
    # then
    for caller in callers:
        _assert_all_cart_not_found(_cart_calls(caller, cart, line), missing_cart_answer)
    line.refresh_from_db()
    assert line.quantity == 2
    assert not Order.objects.filter(cart=cart).exists()


def test_a_users_jwt_without_the_token_does_not_reach_a_guest_cart(
    auth_client: APIClient, missing_cart_answer: dict
) -> None:
    # given
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 2))
    line = CartItem.objects.get(cart=cart)
    # when / then
    _assert_all_cart_not_found(_cart_calls(auth_client, cart, line), missing_cart_answer)
    assert str(cart.pk) not in {c["id"] for c in auth_client.get(CARTS).json()}
    # and: with the token as well, the same user reaches it (what claim relies on)
    assert cart_token_client(token, auth_client).get(f"{CARTS}{cart.pk}/").status_code == 200


def test_a_guest_token_does_not_reach_a_users_cart(user: User, missing_cart_answer: dict) -> None:
    # given: a user's cart, and a guest with a valid token of their own
    cart = make_cart(user, quantity=2)
    line = CartItem.objects.get(cart=cart)
    _, token = guest_cart()
    # when / then
    _assert_all_cart_not_found(_cart_calls(cart_token_client(token), cart, line), missing_cart_answer)
    line.refresh_from_db()
    assert line.quantity == 2


def test_a_guest_lists_only_its_cart_and_an_anonymous_list_is_empty() -> None:
    # given
    mine, token = guest_cart()
    guest_cart()
    make_cart(UserFactory.create())
    # when
    listed = cart_token_client(token).get(CARTS)
    anonymous = APIClient().get(CARTS)
    # then
    assert [c["id"] for c in listed.json()] == [str(mine.pk)]
    assert (anonymous.status_code, anonymous.json()) == (200, [])


def test_an_anonymous_create_with_its_token_returns_its_open_cart() -> None:
    # given
    cart, token = guest_cart()
    # when
    again = cart_token_client(token).post(CARTS)
    # then: the same cart, its token not shown again
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["token"]) == (str(cart.pk), None)
    assert Cart.objects.filter(user__isnull=True).count() == 1


def test_a_merged_carts_token_stops_working(user: User, missing_cart_answer: dict) -> None:
    # given: a guest cart claimed by a user
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    line = CartItem.objects.get(cart=cart)
    claimed = cart_token_client(token, client_for(user)).post(f"{CARTS}{cart.pk}/claim/")
    assert claimed.status_code == 200
    # when / then: the token reaches nothing any more, anonymous or signed in
    _assert_all_cart_not_found(_cart_calls(cart_token_client(token), cart, line), missing_cart_answer)
    assert cart_token_client(token).get(CARTS).json() == []
    assert cart_token_client(token, client_for(user)).post(f"{CARTS}{cart.pk}/claim/").status_code == 404


# --- orders --------------------------------------------------------------------------------------


def _guest_order(email: str = "asha@example.com") -> tuple[Order, str, str]:
    """A checked-out guest cart: its pending order, the order token and the session id."""
    cart, token = guest_cart((default_variant_of(ProductFactory.create()), 1))
    answer = cart_token_client(token).post(checkout_url(cart), {"email": email}).json()
    return Order.objects.get(pk=answer["order_id"]), answer["order_token"], answer["session_id"]


def test_an_order_token_reads_and_cancels_only_its_order(stripe_env: FakeStripeServer) -> None:
    # given: two guest orders
    mine, my_token, _ = _guest_order()
    theirs, their_token, _ = _guest_order()
    # when
    read_mine = order_token_client(my_token).get(f"{ORDERS}{mine.pk}/")
    read_theirs = order_token_client(my_token).get(f"{ORDERS}{theirs.pk}/")
    cancel_theirs = order_token_client(my_token).post(f"{ORDERS}{theirs.pk}/cancel/")
    without = APIClient().get(f"{ORDERS}{mine.pk}/")
    cancel_mine = order_token_client(my_token).post(f"{ORDERS}{mine.pk}/cancel/")
    # then
    assert read_mine.status_code == 200
    assert read_mine.json()["order_token"] == my_token
    for response in (read_theirs, cancel_theirs, without):
        assert response.status_code == 404
        assert response.json()["code"] == "order_not_found"
    assert cancel_mine.status_code == 200
    assert cancel_mine.json()["status"] == "cancelled"
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.PENDING
    # and: the history needs a JWT, whatever token comes with it
    assert order_token_client(their_token).get(ORDERS).status_code == 401


def test_confirm_without_a_jwt_finds_a_guest_order_but_never_a_users(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient
) -> None:
    # given: a guest order and a user's order, both with sessions
    guest_order, order_token, guest_session = _guest_order()
    users = auth_client.post(checkout_url(make_cart(user))).json()
    # when
    guest = APIClient().post(f"{ORDERS}confirm/", {"session_id": guest_session})
    anonymous_on_users = APIClient().post(f"{ORDERS}confirm/", {"session_id": users["session_id"]})
    other_user_on_users = client_for(UserFactory.create()).post(
        f"{ORDERS}confirm/", {"session_id": users["session_id"]}
    )
    owner_on_users = auth_client.post(f"{ORDERS}confirm/", {"session_id": users["session_id"]})
    # then
    assert guest.status_code == 200
    assert (guest.json()["id"], guest.json()["order_token"]) == (str(guest_order.pk), order_token)
    assert anonymous_on_users.status_code == 404
    assert other_user_on_users.status_code == 404
    assert owner_on_users.status_code == 200
    assert owner_on_users.json()["order_token"] is None


def test_guest_orders_are_listed_for_a_user_who_verified_that_email(stripe_env: FakeStripeServer) -> None:
    # given: two guest orders placed with Asha's address (in another case), one with someone else's
    first, _, _ = _guest_order("ASHA@example.com")
    second, _, _ = _guest_order("asha@example.com")
    _guest_order("ravi@example.com")
    verified = UserFactory.create(email="asha@example.com", email_verified_at=timezone.now())
    unverified = UserFactory.create(email="ravi@example.com")
    # when
    listed = client_for(verified).get(ORDERS)
    read = client_for(verified).get(f"{ORDERS}{first.pk}/")
    not_yet = client_for(unverified).get(ORDERS)
    # then: the verified address attaches its guest orders; an unverified one attaches nothing
    assert {o["id"] for o in listed.json()["results"]} == {str(first.pk), str(second.pk)}
    assert read.status_code == 200
    assert not_yet.json()["results"] == []


def test_guest_cart_creation_is_throttled_per_client_address(settings: SettingsWrapper, user: User) -> None:
    # given
    set_throttle_rates(settings, guest_cart="2/hour")
    here, elsewhere = APIClient(REMOTE_ADDR="203.0.113.7"), APIClient(REMOTE_ADDR="203.0.113.8")
    # when
    statuses = [here.post(CARTS).status_code for _ in range(3)]
    other_address = elsewhere.post(CARTS)
    signed_in = with_headers(client_for(user), REMOTE_ADDR="203.0.113.7").post(CARTS)
    # then: the third guest cart from one address is refused; other addresses and users are not counted
    assert statuses == [201, 201, 429]
    assert other_address.status_code == 201
    assert signed_in.status_code == 201
    assert Cart.objects.filter(user__isnull=True).count() == 3


@pytest.mark.postgres_only
def test_an_idempotency_key_is_scoped_by_the_guest_cart_token() -> None:
    # given: two guests behind one address, each with a cart, sending the same key
    variant = default_variant_of(ProductFactory.create())
    first, first_token = guest_cart()
    second, second_token = guest_cart()
    key: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": "same-key", "REMOTE_ADDR": "198.51.100.4"}
    body = {"variant_id": variant.pk, "quantity": 1}
    # when: the very same request but for the token (scoped by address, the second would be a replay)
    a_open = cart_token_client(first_token).post(CARTS, **key)
    b_open = cart_token_client(second_token).post(CARTS, **key)
    # and: the same key on each guest's own cart, then the first guest's retry
    other_key: dict[str, Any] = {**key, "HTTP_IDEMPOTENCY_KEY": "add-one"}
    a = cart_token_client(first_token).post(f"{CARTS}{first.pk}/items/", body, **other_key)
    b = cart_token_client(second_token).post(f"{CARTS}{second.pk}/items/", body, **other_key)
    a_again = cart_token_client(first_token).post(f"{CARTS}{first.pk}/items/", body, **other_key)
    # then: each guest got its own cart; no collision, and the retry is a replay
    assert (a_open.json()["id"], b_open.json()["id"]) == (str(first.pk), str(second.pk))
    assert "Idempotent-Replayed" not in b_open
    assert (a.status_code, b.status_code, a_again.status_code) == (201, 201, 201)
    assert "Idempotent-Replayed" not in b
    assert a_again["Idempotent-Replayed"] == "true"
    assert CartItem.objects.get(cart=first).quantity == 1
    assert CartItem.objects.get(cart=second).quantity == 1


def test_answers_about_a_guest_cart_vary_on_its_token() -> None:
    # given
    cart, token = guest_cart()
    # when
    response = cart_token_client(token).get(f"{CARTS}{cart.pk}/")
    # then: no cache hands one guest's cart to another
    assert "X-Cart-Token" in response["Vary"]
