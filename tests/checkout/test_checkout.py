"""POST /api/v1/carts/{id}/checkout/: one pending order and one payable session per cart content."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import ProductVariant
from checkout.models import Cart, Order, OrderEvent, OrderItem
from tests.checkout.conftest import CARD_ASYNC, CARD_OK, checkout_url, make_cart, order_of
from tests.factories import CartItemFactory, ProductFactory
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db


def _sessions(stripe_client: stripe.StripeClient) -> list:
    return [s.to_dict() for s in stripe_client.v1.checkout.sessions.list({"limit": 100}).data]


def test_checkout_creates_pending_order_items_and_one_session(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given
    cart = make_cart(user, lines=2, quantity=3, unit_amount=10_000)

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["order_id"])
    assert order.status == Order.Status.PENDING
    assert order.total_amount == 60_000
    assert order.number.startswith("SA-")
    assert body == {
        "order_id": str(order.pk),
        "order_number": order.number,
        "session_id": order.provider_session_id,
        "checkout_url": order.checkout_url,
        "expires_at": body["expires_at"],
        "order_token": None,  # a user's order: its owner's JWT reads it
    }
    assert (order.user_id, order.email, order.token_hash) == (user.pk, user.email, None)
    assert OrderItem.objects.filter(order=order).count() == 2
    assert {i.line_total for i in order.items.all()} == {30_000}
    [session] = _sessions(stripe_client)
    assert session["id"] == order.provider_session_id
    assert session["client_reference_id"] == str(order.pk)
    assert session["metadata"] == {"order_id": str(order.pk), "order_number": order.number}
    assert session["amount_total"] == 60_000
    assert session["customer_email"] == user.email
    assert session["url"] == body["checkout_url"]
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.OPEN


def test_checkout_again_unchanged_returns_same_session(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()

    # when
    again = auth_client.post(checkout_url(cart))

    # then
    assert again.status_code == 200
    assert again.json() == first
    assert len(_sessions(stripe_client)) == 1
    assert Order.objects.filter(cart=cart).count() == 1


def test_checkout_session_about_to_expire_is_replaced(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    user: User,
    auth_client: APIClient,
    settings: SettingsWrapper,
) -> None:
    # given: every session counts as "about to expire"
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    settings.CHECKOUT_SESSION_MIN_REMAINING_SECONDS = 24 * 3600

    # when
    again = auth_client.post(checkout_url(cart))

    # then
    assert again.status_code == 201
    assert again.json()["session_id"] != first["session_id"]
    assert stripe_client.v1.checkout.sessions.retrieve(first["session_id"])["status"] == "expired"
    assert Order.objects.get(pk=first["order_id"]).status == Order.Status.CANCELLED


def test_changed_cart_expires_old_session_and_cancels_old_order(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    CartItemFactory.create(cart=cart, product=ProductFactory.create(unit_amount=500))

    # when
    second = auth_client.post(checkout_url(cart))

    # then
    assert second.status_code == 201
    assert second.json()["session_id"] != first["session_id"]
    assert stripe_client.v1.checkout.sessions.retrieve(first["session_id"])["status"] == "expired"
    old = Order.objects.get(pk=first["order_id"])
    assert old.status == Order.Status.CANCELLED
    assert list(old.events.values_list("from_status", "to_status", "message")) == [
        ("pending", "cancelled", "superseded by a new checkout")
    ]
    assert order_of(cart, status=Order.Status.PENDING).total_amount == 149_900 + 500
    # and the expired session can no longer be paid
    refused = stripe_env.pay(first["session_id"], CARD_OK)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "checkout_session_expired"


def test_price_change_counts_as_changed_content(
    stripe_env: FakeStripeServer, user: User, auth_client: APIClient
) -> None:
    # given
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    ProductVariant.objects.filter(pk=cart.items.get().variant_id).update(unit_amount=7_700)

    # when
    second = auth_client.post(checkout_url(cart))

    # then
    assert second.status_code == 201
    assert second.json()["order_id"] != first["order_id"]


def test_cart_paid_meanwhile_is_409_and_order_becomes_paid(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: paid at Stripe, webhook not delivered (no webhook_url configured)
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    assert stripe_env.pay(first["session_id"], CARD_OK).status_code == 200
    CartItemFactory.create(cart=cart, product=ProductFactory.create())

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "cart_already_paid"
    assert len(_sessions(stripe_client)) == 1
    order = Order.objects.get(pk=first["order_id"])
    assert order.status == Order.Status.PAID
    assert order.payment_id.startswith("pi_")
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.CHECKED_OUT
    assert order.events.filter(to_status="paid").count() == 1
    # and the cart, now checked out, cannot be checked out again
    assert auth_client.post(checkout_url(cart)).status_code == 409


def test_async_payment_processing_blocks_a_new_session(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    stripe_env.pay(first["session_id"], CARD_ASYNC)
    CartItemFactory.create(cart=cart, product=ProductFactory.create())

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "payment_in_progress"
    assert len(_sessions(stripe_client)) == 1
    assert Order.objects.get(pk=first["order_id"]).status == Order.Status.PENDING


def test_expired_session_marks_old_order_expired(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, user: User, auth_client: APIClient
) -> None:
    # given: Stripe expired the session but the webhook never came, and the cart changed
    cart = make_cart(user)
    first = auth_client.post(checkout_url(cart)).json()
    stripe_client.v1.checkout.sessions.expire(first["session_id"])
    CartItemFactory.create(cart=cart, product=ProductFactory.create())

    # when
    response = auth_client.post(checkout_url(cart))

    # then: the old order is expired (not cancelled), a new one exists
    assert response.status_code == 201
    assert Order.objects.get(pk=first["order_id"]).status == Order.Status.EXPIRED


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda cart: None, "cart_empty"),
        (
            lambda cart: CartItemFactory.create(cart=cart, product=ProductFactory.create(is_active=False)),
            "product_unavailable",
        ),
        (
            lambda cart: [
                CartItemFactory.create(cart=cart, product=ProductFactory.create(currency="inr")),
                CartItemFactory.create(cart=cart, product=ProductFactory.create(currency="usd")),
            ],
            "currency_mismatch",
        ),
        (
            lambda cart: CartItemFactory.create(
                cart=cart, product=ProductFactory.create(unit_amount=99_999_999), quantity=2
            ),
            "order_too_large",
        ),
        (
            lambda cart: CartItemFactory.create(
                cart=cart, product=ProductFactory.create(unit_amount=49), quantity=1
            ),
            "order_too_small",
        ),
    ],
)
def test_uncheckoutable_carts_are_400_and_call_no_stripe(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    user: User,
    auth_client: APIClient,
    setup: Callable[[Cart], object],
    code: str,
) -> None:
    # given
    from tests.factories import CartFactory

    cart = CartFactory.create(user=user)
    setup(cart)

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Order.objects.count() == 0
    assert _sessions(stripe_client) == []


def test_someone_elses_cart_is_404(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient, other_user: User, auth_client: APIClient
) -> None:
    cart = make_cart(other_user)
    response = auth_client.post(checkout_url(cart))
    assert response.status_code == 404
    assert _sessions(stripe_client) == []


def test_anonymous_checkout_of_a_users_cart_is_404(api_client: APIClient, user: User) -> None:
    # given: a user's cart; the caller has no JWT (a guest cart needs X-Cart-Token instead)
    cart = make_cart(user)
    # when
    response = api_client.post(checkout_url(cart), {"email": "someone@example.com"})
    # then: exactly like someone else's cart
    assert response.status_code == 404
    assert response.json()["code"] == "cart_not_found"
    assert not Order.objects.filter(cart=cart).exists()


def test_query_count_does_not_depend_on_the_number_of_lines(
    stripe_env: FakeStripeServer,
    user: User,
    other_user: User,
    auth_client: APIClient,
    other_client: APIClient,
) -> None:
    # given
    small, large = make_cart(user, lines=1), make_cart(other_user, lines=30)

    # when
    with CaptureQueriesContext(connection) as one_line:
        assert auth_client.post(checkout_url(small)).status_code == 201
    with CaptureQueriesContext(connection) as thirty_lines:
        assert other_client.post(checkout_url(large)).status_code == 201

    # then
    assert len(one_line) == len(thirty_lines)
    assert len(one_line) <= 15


# A checkout that gets no answer (a timeout, a refused connection) keeps its order pending with the
# session unclear: tests/checkout/test_unclear_outcomes.py.
@pytest.mark.parametrize(("fault", "status", "code"), [("500", 502, "payment_provider_error")])
def test_stripe_failure_keeps_failed_order_and_a_retry_succeeds(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
    fault: str,
    status: int,
    code: str,
) -> None:
    # given
    cart = make_cart(user)
    stripe_env.faults(fail_next=2, status=500)  # beats the one retry

    # when
    response = auth_client.post(checkout_url(cart))

    # then
    assert response.status_code == status
    assert response.json()["code"] == code
    failed = Order.objects.get(cart=cart)
    assert failed.status == Order.Status.FAILED
    assert list(failed.events.values_list("from_status", "to_status", "source")) == [
        ("pending", "failed", "api")
    ]
    assert code in failed.events.get().message
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.OPEN

    # when: the fault is gone
    stripe_env.faults()
    before = {s["id"] for s in _sessions(stripe_client)}
    retry = auth_client.post(checkout_url(cart))

    # then
    assert retry.status_code == 201
    new_sessions = [s for s in _sessions(stripe_client) if s["id"] not in before]
    new_order = Order.objects.get(cart=cart, status=Order.Status.PENDING)
    assert [s["id"] for s in new_sessions if s["client_reference_id"] == str(new_order.pk)] == [
        retry.json()["session_id"]
    ]
    assert Order.objects.filter(cart=cart).count() == 2
    assert OrderEvent.objects.filter(order__cart=cart).count() == 1


@pytest.mark.parametrize(("ttl_minutes", "expected_minutes"), [(30, 31), (90, 90), (48 * 60, 24 * 60 - 1)])
def test_session_lifetime_stays_inside_stripes_window(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    settings: SettingsWrapper,
    user: User,
    auth_client: APIClient,
    ttl_minutes: int,
    expected_minutes: int,
) -> None:
    # given: any configured lifetime, even one Stripe would refuse
    settings.CHECKOUT_SESSION_TTL_MINUTES = ttl_minutes
    cart = make_cart(user)

    # when
    response = auth_client.post(checkout_url(cart))

    # then: Stripe accepted a session living 31 min .. 24 h - 1 min
    assert response.status_code == 201
    session = stripe_client.v1.checkout.sessions.retrieve(response.json()["session_id"])
    assert session.expires_at - session.created == pytest.approx(expected_minutes * 60, abs=5)
