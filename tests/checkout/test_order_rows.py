"""The orders list and detail read as rows (checkout/serializers/order_rows.py) answer exactly what
`OrderSerializer` answers for the same orders, byte for byte, in one query (plus the JWT's user).

The reference is the serializer over the prefetched models (`orders_for_owner`), rendered by DRF's
JSONRenderer as the API renders it; the orders cover every shape an order takes: paid, pending
with a session, refunded, oversold, shipping method and address (whole, partial, method deleted),
shipped (partly, wholly, delivered), a guest order (its token), and one without items or events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone as django_timezone
from pytest_django import DjangoAssertNumQueries
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent, OrderItem, ShippingMethod
from checkout.ownership import Owner
from checkout.selectors.orders import order_get_for_owner, orders_for_owner
from checkout.serializers.dates import iso_utc
from checkout.serializers.order_rows import _ORDER_FIELDS, _iso
from checkout.serializers.orders import OrderSerializer
from checkout.services.fulfilment import shipment_create, shipment_deliver
from checkout.tokens import order_token_derive, order_token_hash
from checkout.views import orders as order_views
from tests.checkout.backoffice import make_order, next_number
from tests.checkout.guests import order_token_client
from tests.conftest import client_for
from tests.factories import ProductFactory, UserFactory, default_variant_of

# The fast path builds the JSON with PostgreSQL functions; other databases take the serializer.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

ORDERS = "/api/v1/orders/"


def _add_item(
    order: Order, *, name: str, sku: str = "", variant_title: str = "", quantity: int = 1
) -> OrderItem:
    product = ProductFactory.create()
    return OrderItem.objects.create(
        order=order,
        product=product,
        variant=default_variant_of(product),
        name=name,
        sku=sku,
        variant_title=variant_title,
        unit_amount=100,
        quantity=quantity,
        line_total=100 * quantity,
    )


def _orders_of_every_shape(user: User) -> list[Order]:
    """One order of each shape for `user` (plus a guest order its verified email attaches)."""
    paid = make_order(user, status=Order.Status.PAID)
    _add_item(paid, name='Kettle "Copper" \\ 1.5 l\tÜ ☕', sku="k-1", variant_title="1.5 l", quantity=3)
    pending = make_order(user, status=Order.Status.PENDING)
    Order.objects.filter(pk=pending.pk).update(
        checkout_url="https://checkout.example.com/c/pay/cs_test_x?a=1&b=<2>",
        session_expires_at=datetime(2026, 11, 29, 18, 30, 15, 123400, tzinfo=UTC),
    )
    pending_whole_second = make_order(user, status=Order.Status.FAILED)  # one open cart per user
    Order.objects.filter(pk=pending_whole_second.pk).update(
        session_expires_at=datetime(2026, 11, 29, 18, 30, 15, tzinfo=UTC),
        created_at=datetime(2026, 11, 1, 8, 0, 0, 7, tzinfo=UTC),
        updated_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
    )
    refunded = make_order(user, status=Order.Status.PARTIALLY_REFUNDED, amount_refunded=1000)
    oversold = make_order(user, status=Order.Status.PAID)
    Order.objects.filter(pk=oversold.pk).update(
        oversold=True,
        total_amount=2**40 + 5,
        subtotal_amount=2**40,
        shipping_amount=10,
        discount_amount=7,
        tax_amount=2,
    )
    method = ShippingMethod.objects.create(name="Standard", amount=15_000, currency="inr")
    shipping = make_order(user, status=Order.Status.PAID)
    Order.objects.filter(pk=shipping.pk).update(
        shipping_method=method,
        shipping_method_name="Standard",
        shipping_address={
            "name": "Asha Rao",
            "line1": "12 MG Road",
            "city": "Bengaluru",
            "state": None,
            "postal_code": 560001,
            "country": "IN",
        },
    )
    method_deleted = make_order(user, status=Order.Status.PAID)
    Order.objects.filter(pk=method_deleted.pk).update(shipping_method_name="Express (retired)")
    address_only = make_order(user, status=Order.Status.PAID)
    Order.objects.filter(pk=address_only.pk).update(shipping_address={"name": "A", "line2": "Flat 4"})
    partly_shipped = make_order(user, status=Order.Status.PAID, quantity=2)
    shipment_create(
        order_id=partly_shipped.pk,
        lines={partly_shipped.items.get().pk: 1},
        carrier="DHL",
        tracking_number="JD0001",
        tracking_url="https://track.example.com/JD0001",
        shipped_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )
    shipped = make_order(user, status=Order.Status.PAID, quantity=2)
    extra = _add_item(shipped, name="Lid", quantity=1)
    first = shipment_create(order_id=shipped.pk, lines={shipped.items.order_by("id")[0].pk: 2})
    shipment_deliver(shipment_id=first.pk)
    shipment_create(order_id=shipped.pk, lines={extra.pk: 1}, carrier="Blue Dart")
    bare = Order.objects.create(
        number=next_number(),
        user=user,
        cart=Cart.objects.create(user=user, status=Cart.Status.CHECKED_OUT),
        status=Order.Status.EXPIRED,
        currency="usd",
        total_amount=0,
        content_fingerprint="f" * 64,
    )
    guest = make_order(UserFactory.create(), status=Order.Status.PAID)
    Order.objects.filter(pk=guest.pk).update(
        user=None, email=user.email.upper(), token_hash=order_token_hash(guest.pk)
    )
    OrderEvent.objects.create(
        order=guest, from_status="paid", to_status="paid", source="admin", message="note"
    )
    return [
        paid,
        pending,
        pending_whole_second,
        refunded,
        oversold,
        shipping,
        method_deleted,
        address_only,
        partly_shipped,
        shipped,
        bare,
        guest,
    ]


@pytest.fixture
def verified_user(db: None) -> User:
    return UserFactory.create(email_verified_at=django_timezone.now())


def _render(data: Any) -> bytes:
    return JSONRenderer().render(data)


def _reference_page(owner: User, *, status: str | None = None) -> list[dict[str, Any]]:
    """What `OrderSerializer` answers for the owner's orders, newest first."""
    return list(OrderSerializer(orders_for_owner(owner=owner, status=status), many=True).data)


def test_the_list_is_the_serializers_answer_byte_for_byte(verified_user: User) -> None:
    # given: every shape of order, the guest one attached by the verified email
    orders = _orders_of_every_shape(verified_user)
    reference = _reference_page(verified_user)
    assert len(reference) == len(orders)
    assert {row["order_token"] for row in reference} == {None, order_token_derive(orders[-1].pk)}
    # when
    response = client_for(verified_user).get(ORDERS, {"page_size": 50})
    # then
    assert response.status_code == 200
    assert response.content == _render({"next": None, "previous": None, "results": reference})


@pytest.mark.parametrize("status", [Order.Status.PAID, Order.Status.PENDING, Order.Status.CANCELLED])
def test_a_status_filtered_list_is_the_serializers_answer(verified_user: User, status: str) -> None:
    # given
    _orders_of_every_shape(verified_user)
    reference = _reference_page(verified_user, status=status)
    # when
    response = client_for(verified_user).get(f"{ORDERS}?page_size=50&status={status}")
    # then
    assert response.content == _render({"next": None, "previous": None, "results": reference})


def test_every_detail_is_the_serializers_answer_byte_for_byte(verified_user: User) -> None:
    # given
    orders = _orders_of_every_shape(verified_user)
    client = client_for(verified_user)
    for order in orders:
        reference = OrderSerializer(order_get_for_owner(order_id=order.pk, owner=verified_user)).data
        # when
        response = client.get(f"{ORDERS}{order.pk}/")
        # then
        assert response.status_code == 200
        assert response.content == _render(reference), order.number


def test_the_serializer_path_other_databases_take_answers_the_same_bytes(
    verified_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: every shape of order, read once as PostgreSQL builds it
    orders = _orders_of_every_shape(verified_user)
    client = client_for(verified_user)
    paths = [f"{ORDERS}?page_size=50", f"{ORDERS}?page_size=2", *(f"{ORDERS}{o.pk}/" for o in orders)]
    fast = [client.get(path).content for path in paths]
    # when: the view takes the serializer path (SQLite under `make run`)
    monkeypatch.setattr(order_views, "_json_in_sql", lambda: False)
    slow = [client.get(path).content for path in paths]
    # then
    assert slow == fast


def test_a_guest_reads_its_order_by_token_as_the_serializer_shows_it(verified_user: User) -> None:
    # given: the guest order, read with its token alone
    orders = _orders_of_every_shape(verified_user)
    guest = orders[-1]
    token = order_token_derive(guest.pk)
    reference = OrderSerializer(
        order_get_for_owner(order_id=guest.pk, owner=Owner(order_token_hash=order_token_hash(guest.pk)))
    ).data
    # when
    response = order_token_client(token).get(f"{ORDERS}{guest.pk}/")
    other = order_token_client(token).get(f"{ORDERS}{orders[0].pk}/")
    # then
    assert response.content == _render(reference)
    assert response.json()["order_token"] == token
    assert other.status_code == 404


def test_cursor_pages_forward_and_back_are_the_serializers_answer(verified_user: User) -> None:
    # given: pages of 5 over 12 orders, compared with the reference page by page
    _orders_of_every_shape(verified_user)
    reference = _reference_page(verified_user)
    client = client_for(verified_user)
    pages, url = [], f"{ORDERS}?page_size=5"
    # when: walking forward to the end
    while url:
        body = client.get(url).json()
        pages.append(body)
        url = body["next"]
    # then: each page is the reference's slice, and `previous` walks back to the same pages
    assert [len(page["results"]) for page in pages] == [5, 5, 2]
    for number, page in enumerate(pages):
        assert _render(page["results"]) == _render(reference[number * 5 : number * 5 + 5])
    back = client.get(pages[2]["previous"])
    assert back.content == _render(
        {"next": pages[1]["next"], "previous": pages[1]["previous"], "results": reference[5:10]}
    )


def test_bad_cursor_and_status_are_still_400s(verified_user: User) -> None:
    client = client_for(verified_user)
    assert client.get(ORDERS, {"cursor": "eyJvIjpbXX0"}).status_code == 400
    assert client.get(ORDERS, {"status": "shipped"}).status_code == 400
    assert APIClient().get(ORDERS).status_code == 401


@pytest.mark.parametrize("count", [1, 50])
def test_the_list_is_one_query_for_any_number_of_orders_and_children(
    user: User, django_assert_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given: orders with items, events and a shipment each
    for _ in range(count):
        order = make_order(user, quantity=2)
        shipment_create(order_id=order.pk, lines={order.items.get().pk: 1}, carrier="DHL")
    client = client_for(user)
    # when / then: the JWT's user, then the page with everything in it
    with django_assert_num_queries(2):
        response = client.get(ORDERS, {"page_size": 50})
    assert len(response.json()["results"]) == count
    assert all(len(row["shipments"]) == 1 for row in response.json()["results"])


def test_the_detail_is_one_query(user: User, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    order = make_order(user)
    shipment_create(order_id=order.pk, lines={order.items.get().pk: 1})
    client = client_for(user)
    with django_assert_num_queries(2):
        response = client.get(f"{ORDERS}{order.pk}/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 29, 15, 35, tzinfo=UTC),
        datetime(2026, 11, 29, 15, 35, 0, 7, tzinfo=UTC),
        datetime(2026, 11, 29, 15, 35, 59, 500000, tzinfo=UTC),
        datetime(2026, 11, 29, 21, 5, 1, 120000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_sql_datetimes_render_as_iso_utc_in_any_session_time_zone(value: datetime) -> None:
    for zone in ("UTC", "Asia/Kolkata", "America/St_Johns"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone])
            sql = f"SELECT {_iso('%s::timestamptz')}"
            cursor.execute(sql, [value] * sql.count("%s"))
            (rendered,) = cursor.fetchone()
        assert rendered == iso_utc(value), zone


def test_the_sql_builds_the_serializers_fields_in_its_order() -> None:
    assert [key for key, _ in _ORDER_FIELDS] == list(OrderSerializer().fields)
