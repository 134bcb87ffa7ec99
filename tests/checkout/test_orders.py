"""Orders API: history and detail (owner only, constant queries), confirm, cancel, the state machine."""

from __future__ import annotations

import itertools
import socket
from typing import cast

import pytest
import stripe
from django.db import connection
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent, OrderItem
from checkout.services.fulfilment import shipment_create
from checkout.services.transitions import order_transition
from checkout.states import TRANSITIONS, transition_allowed
from tests.checkout.conftest import CARD_ASYNC, CARD_OK, checkout_url, make_cart
from tests.factories import CartFactory, ProductFactory, default_variant_of
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def _order(
    user: User, *, items: int = 1, status: str = Order.Status.PENDING, events: int = 1, shipped: bool = False
) -> Order:
    cart = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    order = Order.objects.create(
        number=f"SA-T{Order.objects.count():07d}",
        user=user,
        cart=cart,
        status=status,
        currency="inr",
        total_amount=100 * items,
        subtotal_amount=100 * items,
        content_fingerprint="x",
    )
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                product=(product := ProductFactory.create()),
                variant=default_variant_of(product),
                name=f"P{i}",
                unit_amount=100,
                quantity=1,
                line_total=100,
            )
            for i in range(items)
        ]
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(order=order, from_status="pending", to_status=status, source="api")
            for _ in range(events)
        ]
    )
    if shipped:  # one shipment per item, through the service
        for item in order.items.all():
            shipment_create(order_id=order.pk, lines={item.pk: 1}, carrier="DHL")
    return order


# ------------------------------------------------------------------ state machine


def test_state_machine_allows_exactly_the_table() -> None:
    allowed = {
        ("pending", "paid"),
        ("pending", "failed"),
        ("pending", "expired"),
        ("pending", "cancelled"),
        ("failed", "paid"),  # an orphan session of a failed order paid: the money is never refused
        ("paid", "partially_refunded"),
        ("paid", "refunded"),
        ("partially_refunded", "partially_refunded"),
        ("partially_refunded", "refunded"),
        # a refund that fails after it succeeded gives its amount back
        ("partially_refunded", "paid"),
        ("refunded", "partially_refunded"),
        ("refunded", "paid"),
    }
    for frm, to in itertools.product(Order.Status.values, repeat=2):
        assert transition_allowed(frm, to) is ((frm, to) in allowed), (frm, to)
    assert set(TRANSITIONS) <= set(Order.Status.values)


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(Order.Status.values, repeat=2)))
def test_order_transition_applies_only_allowed_pairs(user: User, frm: str, to: str) -> None:
    # given
    order = _order(user, status=frm, events=0)

    # when
    moved = order_transition(order_id=order.pk, to_status=to, source="api", message="t")

    # then
    order.refresh_from_db()
    assert moved is transition_allowed(frm, to)
    assert order.status == (to if moved else frm)
    assert order.events.count() == (1 if moved else 0)


# ------------------------------------------------------------------ list and detail


def test_list_is_owner_only_newest_first(user: User, other_user: User, auth_client: APIClient) -> None:
    # given
    older, newer = _order(user), _order(user)
    _order(other_user)

    # when
    response = auth_client.get(ORDERS)

    # then
    assert response.status_code == 200
    ids = [o["id"] for o in response.json()["results"]]
    assert ids == [str(newer.pk), str(older.pk)]
    first = response.json()["results"][0]
    assert first["items"][0].keys() == {
        "id",
        "quantity_shipped",
        "product_id",
        "variant_id",
        "sku",
        "name",
        "variant_title",
        "unit_amount",
        "quantity",
        "line_total",
    }
    assert first["events"][0] == {
        "status": "pending",
        "kind": "status",
        "created_at": first["events"][0]["created_at"],
        "source": "api",
    }
    assert {"id", "number", "status", "currency", "total_amount", "created_at", "paid_at"} <= first.keys()


def test_list_status_filter_and_bad_status(user: User, auth_client: APIClient) -> None:
    # given
    paid = _order(user, status=Order.Status.PAID)
    _order(user, status=Order.Status.PENDING)

    # when
    response = auth_client.get(ORDERS, {"status": "paid"})
    bad = auth_client.get(ORDERS, {"status": "shipped"})

    # then
    assert [o["id"] for o in response.json()["results"]] == [str(paid.pk)]
    assert bad.status_code == 400
    assert "status" in bad.json()["fields"]


def test_list_paginates(user: User, auth_client: APIClient) -> None:
    for _ in range(3):
        _order(user)
    page = auth_client.get(ORDERS, {"page_size": 2}).json()
    assert len(page["results"]) == 2
    assert page["next"]
    rest = auth_client.get(page["next"]).json()
    assert len(rest["results"]) == 1


@pytest.mark.parametrize("orders", [1, 50])
def test_list_query_count_is_constant(
    user: User, auth_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, orders: int
) -> None:
    for _ in range(orders):
        _order(user, items=2, events=2, status=Order.Status.PAID, shipped=True)
    # PostgreSQL: the JWT's user, then the page with its children (checkout/serializers/order_rows.py);
    # elsewhere the serializer's orders, items, events, shipments and their items (+ the user)
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 6):
        response = auth_client.get(ORDERS, {"page_size": 50})
    assert len(response.json()["results"]) == orders


@pytest.mark.parametrize("items", [1, 50])
def test_detail_query_count_is_constant(
    user: User, auth_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, items: int
) -> None:
    order = _order(user, items=items, events=3, status=Order.Status.PAID, shipped=True)
    # PostgreSQL: the JWT's user, then the order with its children; elsewhere as the list
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 6):
        response = auth_client.get(f"{ORDERS}{order.pk}/")
    assert response.status_code == 200
    assert len(response.json()["items"]) == items
    assert len(response.json()["events"]) == 3 + items  # a `shipped` entry per shipment
    assert len(response.json()["shipments"]) == items
    assert response.json()["fulfilment_status"] == "fulfilled"


def test_detail_of_someone_elses_order_is_404(other_user: User, auth_client: APIClient) -> None:
    order = _order(other_user)
    assert auth_client.get(f"{ORDERS}{order.pk}/").status_code == 404


def test_order_history_needs_authentication_and_a_users_order_is_404_without_its_jwt(
    api_client: APIClient, user: User
) -> None:
    # given: a user's order, with its session
    order = _order(user)
    Order.objects.filter(pk=order.pk).update(provider_session_id="cs_x")
    # when / then: the history is for a signed-in caller; one order, like anyone else's, is a 404
    assert api_client.get(ORDERS).status_code == 401
    assert api_client.get(f"{ORDERS}{order.pk}/").status_code == 404
    assert api_client.post(f"{ORDERS}confirm/", {"session_id": "cs_x"}).status_code == 404
    assert api_client.post(f"{ORDERS}{order.pk}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


# ------------------------------------------------------------------ confirm


@pytest.fixture
def checked_out(stripe_env: FakeStripeServer, user: User, auth_client: APIClient) -> Order:
    cart = make_cart(user)
    return Order.objects.get(pk=auth_client.post(checkout_url(cart)).json()["order_id"])


def test_confirm_paid_session_marks_paid(
    stripe_env: FakeStripeServer, auth_client: APIClient, checked_out: Order
) -> None:
    # given
    stripe_env.pay(cast(str, checked_out.provider_session_id), CARD_OK)

    # when
    response = auth_client.post(f"{ORDERS}confirm/", {"session_id": checked_out.provider_session_id})

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert response.json()["paid_at"]
    assert [e["status"] for e in response.json()["events"]] == ["paid"]
    assert Cart.objects.get(pk=checked_out.cart_id).status == Cart.Status.CHECKED_OUT


@pytest.mark.parametrize("card", [None, CARD_ASYNC])
def test_confirm_unpaid_session_is_200_still_pending(
    stripe_env: FakeStripeServer, auth_client: APIClient, checked_out: Order, card: str | None
) -> None:
    if card:
        stripe_env.pay(cast(str, checked_out.provider_session_id), card)
    response = auth_client.post(f"{ORDERS}confirm/", {"session_id": checked_out.provider_session_id})
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert OrderEvent.objects.count() == 0


def test_confirm_foreign_or_unknown_session_is_404_without_asking_stripe(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    other_client: APIClient,
    checked_out: Order,
) -> None:
    # given: the next request Stripe receives fails
    stripe_env.faults(fail_next=1, status=500)

    # when
    foreign = other_client.post(f"{ORDERS}confirm/", {"session_id": checked_out.provider_session_id})
    unknown = other_client.post(f"{ORDERS}confirm/", {"session_id": "cs_test_unknown"})

    # then: 404, and the armed fault is still waiting: Stripe was never asked
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    with pytest.raises(stripe.APIError):
        stripe_client.v1.checkout.sessions.retrieve(cast(str, checked_out.provider_session_id))


def test_confirm_without_session_id_is_400(stripe_env: FakeStripeServer, auth_client: APIClient) -> None:
    response = auth_client.post(f"{ORDERS}confirm/", {})
    assert response.status_code == 400
    assert "session_id" in response.json()["fields"]


def test_confirm_with_stripe_unreachable_is_503_and_order_stays_pending(
    stripe_env: FakeStripeServer, settings: SettingsWrapper, auth_client: APIClient, checked_out: Order
) -> None:
    # given
    stripe_env.pay(cast(str, checked_out.provider_session_id), CARD_OK)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"

    # when
    response = auth_client.post(f"{ORDERS}confirm/", {"session_id": checked_out.provider_session_id})

    # then
    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert Order.objects.get(pk=checked_out.pk).status == Order.Status.PENDING


def test_confirm_with_stripe_timeout_is_503(
    stripe_env: FakeStripeServer, settings: SettingsWrapper, auth_client: APIClient, checked_out: Order
) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_env.faults(latency_ms=800)
    response = auth_client.post(f"{ORDERS}confirm/", {"session_id": checked_out.provider_session_id})
    assert response.status_code == 503
    assert Order.objects.get(pk=checked_out.pk).status == Order.Status.PENDING


# ------------------------------------------------------------------ cancel


def test_cancel_pending_expires_session(
    stripe_env: FakeStripeServer,
    stripe_client: stripe.StripeClient,
    auth_client: APIClient,
    checked_out: Order,
) -> None:
    # when
    response = auth_client.post(f"{ORDERS}{checked_out.pk}/cancel/")

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert (
        stripe_client.v1.checkout.sessions.retrieve(cast(str, checked_out.provider_session_id))["status"]
        == "expired"
    )
    assert stripe_env.pay(cast(str, checked_out.provider_session_id), CARD_OK).status_code == 400
    assert Cart.objects.get(pk=checked_out.cart_id).status == Cart.Status.OPEN


def test_cancel_paid_order_is_409(
    stripe_env: FakeStripeServer, auth_client: APIClient, checked_out: Order
) -> None:
    stripe_env.pay(cast(str, checked_out.provider_session_id), CARD_OK)
    auth_client.post(f"{ORDERS}confirm/", {"session_id": checked_out.provider_session_id})
    response = auth_client.post(f"{ORDERS}{checked_out.pk}/cancel/")
    assert response.status_code == 409
    assert response.json()["code"] == "order_not_pending"


def test_cancel_of_a_session_paid_meanwhile_fulfils_and_is_409(
    stripe_env: FakeStripeServer, auth_client: APIClient, checked_out: Order
) -> None:
    # given: paid at Stripe, no webhook yet
    stripe_env.pay(cast(str, checked_out.provider_session_id), CARD_OK)

    # when
    response = auth_client.post(f"{ORDERS}{checked_out.pk}/cancel/")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "order_already_paid"
    assert Order.objects.get(pk=checked_out.pk).status == Order.Status.PAID


def test_cancel_someone_elses_order_is_404(
    stripe_env: FakeStripeServer, other_client: APIClient, checked_out: Order
) -> None:
    assert other_client.post(f"{ORDERS}{checked_out.pk}/cancel/").status_code == 404
    assert Order.objects.get(pk=checked_out.pk).status == Order.Status.PENDING


def test_cancel_with_stripe_failing_is_502_and_nothing_changes(
    stripe_env: FakeStripeServer, auth_client: APIClient, checked_out: Order
) -> None:
    stripe_env.faults(fail_next=2, status=500)
    response = auth_client.post(f"{ORDERS}{checked_out.pk}/cancel/")
    assert response.status_code == 502
    assert Order.objects.get(pk=checked_out.pk).status == Order.Status.PENDING


def test_orders_list_walks_cursor_pages_and_rejects_bad_cursors(auth_client: APIClient, user: User) -> None:
    # given: five orders of the caller
    from checkout.models import Order as OrderModel

    for _ in range(5):
        _order(user)
    expected = list(
        OrderModel.objects.filter(user=user).order_by("-created_at", "-id").values_list("id", flat=True)
    )
    # when: walking pages of two
    seen, url = [], ORDERS + "?page_size=2"
    while url:
        page = auth_client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    # then: every order once, newest first; bad cursors and page sizes are 400s naming the field
    assert seen == [str(pk) for pk in expected]
    for params, field in [({"cursor": "\x13garbage"}, "cursor"), ({"page_size": -5}, "page_size")]:
        response = auth_client.get(ORDERS, cast("dict[str, str | int]", params))
        assert response.status_code == 400
        assert field in response.json()["fields"]
