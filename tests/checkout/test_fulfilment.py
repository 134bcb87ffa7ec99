"""Shipments: partial then full fulfilment, never more than ordered, only paid orders, delivery,
the order history and notices, and the admin's "Mark shipped" page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse

from checkout.models import Order, OrderEvent, OrderItem, Shipment
from checkout.services.fulfilment import shipment_create, shipment_deliver
from checkout.services.refunds import order_refund
from checkout.states import OrderNotice, _notice_hooks, on_notice
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, NotFoundError
from tests.checkout.backoffice import admin_client_for, make_order, staff_user, stripe_order
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture
def notices() -> Iterator[list[OrderNotice]]:
    """Every order notice while the test runs (the outbox subscribes the same way)."""
    seen: list[OrderNotice] = []
    hook = on_notice(seen.append)
    yield seen
    _notice_hooks.remove(hook)


def only_item(order: Order) -> OrderItem:
    return order.items.get()


def test_two_of_three_then_the_third_is_partially_then_fully_fulfilled(notices: list[OrderNotice]) -> None:
    # given: a paid order of 3 units
    order = make_order(quantity=3)
    item = only_item(order)
    assert order.fulfilment_status == "unfulfilled"

    # when: two ship, then the third
    first = shipment_create(order_id=order.pk, lines={item.pk: 2}, carrier="DHL", tracking_number="JD1")
    middle = Order.objects.get(pk=order.pk).fulfilment_status
    second = shipment_create(order_id=order.pk, lines={item.pk: 1}, tracking_url="https://t.example/2")

    # then
    assert middle == "partially_fulfilled"
    order = Order.objects.get(pk=order.pk)
    assert order.fulfilment_status == "fulfilled"
    assert only_item(order).quantity_shipped == 3
    assert [(s.pk, [(r.order_item_id, r.quantity) for r in s.item_list]) for s in order.shipment_list] == [
        (first.pk, [(item.pk, 2)]),
        (second.pk, [(item.pk, 1)]),
    ]
    shipped = list(order.events.filter(kind=OrderEvent.Kind.SHIPPED).values_list("to_status", "message"))
    assert shipped == [
        ("paid", f"shipment {first.pk}: 2 units (DHL JD1)"),
        ("paid", f"shipment {second.pk}: 1 unit"),
    ]
    assert order.status == S.PAID  # shipping changes no status
    assert notices == [
        OrderNotice(order_id=order.pk, kind="shipped", object_id=str(first.pk)),
        OrderNotice(order_id=order.pk, kind="shipped", object_id=str(second.pk)),
    ]


def test_no_lines_ships_everything_left() -> None:
    # given
    order = make_order(quantity=3)
    shipment_create(order_id=order.pk, lines={only_item(order).pk: 1})

    # when
    rest = shipment_create(order_id=order.pk)

    # then
    assert [(r.quantity) for r in rest.item_list] == [2]
    assert Order.objects.get(pk=order.pk).fulfilment_status == "fulfilled"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ({"item": 3}, "items.{pk}.quantity"),
        ({"item": -1}, "items.{pk}.quantity"),
        ({"other": 1}, "items.{other}"),
    ],
    ids=["more than left", "negative", "another order's item"],
)
def test_a_shipment_beyond_the_order_is_refused_and_writes_nothing(lines: dict[str, int], field: str) -> None:
    # given: 2 ordered, 0 shipped; an item of another order
    order = make_order(quantity=2)
    item, other = only_item(order), only_item(make_order())
    ids = {"item": item.pk, "other": other.pk}

    # when
    with pytest.raises(DomainError) as refused:
        shipment_create(order_id=order.pk, lines={ids[k]: v for k, v in lines.items()})

    # then
    assert refused.value.code == ErrorCode.SHIPMENT_QUANTITY_INVALID
    assert refused.value.field == field.format(pk=item.pk, other=other.pk)
    assert (Shipment.objects.count(), only_item(order).quantity_shipped) == (0, 0)


def test_nothing_left_to_ship_is_refused() -> None:
    order = make_order(quantity=1)
    shipment_create(order_id=order.pk)
    with pytest.raises(DomainError) as refused:
        shipment_create(order_id=order.pk)
    assert (refused.value.code, refused.value.field) == (ErrorCode.SHIPMENT_QUANTITY_INVALID, "items")
    with pytest.raises(DomainError):
        shipment_create(order_id=order.pk, lines={only_item(order).pk: 0})


def test_the_database_refuses_more_shipped_than_ordered() -> None:
    # given
    order = make_order(quantity=2)

    # when / then: even a write that skipped the service's lock and check
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderItem.objects.filter(order=order).update(quantity_shipped=F("quantity") + 1)


@pytest.mark.parametrize("status", [S.PENDING, S.FAILED, S.EXPIRED, S.CANCELLED, S.REFUNDED])
def test_only_a_paid_order_ships(status: str) -> None:
    order = make_order(status=status, amount_refunded=149_900 * 2 if status == S.REFUNDED else 0)
    with pytest.raises(ConflictError) as refused:
        shipment_create(order_id=order.pk)
    assert refused.value.code == ErrorCode.ORDER_NOT_SHIPPABLE
    assert not Shipment.objects.exists()


def test_a_partially_refunded_order_ships_and_shipped_items_can_still_be_refunded() -> None:
    # given
    order = make_order(status=S.PARTIALLY_REFUNDED, amount_refunded=1_000)

    # when
    shipment = shipment_create(order_id=order.pk)

    # then
    assert shipment.item_list[0].quantity == 2
    assert Order.objects.get(pk=order.pk).fulfilment_status == "fulfilled"


def test_an_unknown_order_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        shipment_create(order_id="00000000-0000-0000-0000-000000000000")


def test_delivered_once(notices: list[OrderNotice]) -> None:
    # given
    order = make_order()
    shipment = shipment_create(order_id=order.pk)

    # when
    delivered = shipment_deliver(shipment_id=shipment.pk, staff_user=staff_user())

    # then
    assert delivered.delivered_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.DELIVERED).count() == 1
    assert notices[-1] == OrderNotice(order_id=order.pk, kind="delivered", object_id=str(shipment.pk))
    with pytest.raises(ConflictError) as again:
        shipment_deliver(shipment_id=shipment.pk)
    assert again.value.code == ErrorCode.SHIPMENT_ALREADY_DELIVERED
    with pytest.raises(NotFoundError):
        shipment_deliver(shipment_id=shipment.pk + 1000)


# ------------------------------------------------------------------ admin


@pytest.fixture
def shipper() -> Client:
    return admin_client_for(staff_user("checkout.view_order", "checkout.ship_order"))


def ship_url(order: Order) -> str:
    return reverse("admin:checkout_order_ship", args=[order.pk])


def test_the_order_page_offers_mark_shipped_and_lists_shipments(shipper: Client) -> None:
    # given
    order = make_order(quantity=3)
    page = shipper.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert 'id="ship-button"' in page

    # when: all items, as the form is prefilled
    item = only_item(order)
    form = shipper.get(ship_url(order))
    assert form.context["form"].fields[f"item_{item.pk}"].initial == 3
    response = shipper.post(ship_url(order), {f"item_{item.pk}": 3, "carrier": "DHL", "_ship": "1"})

    # then
    assert response.status_code == 302
    order = Order.objects.get(pk=order.pk)
    assert order.fulfilment_status == "fulfilled"
    [shipment] = order.shipment_list
    assert shipment.carrier == "DHL"
    assert shipment.created_by  # the staff member's username
    detail = shipper.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert "DHL" in detail
    assert 'id="ship-button"' not in detail
    assert 'id="shipments-button"' in detail


def test_over_shipping_is_a_form_error_on_the_item(shipper: Client) -> None:
    # given: one unit shipped meanwhile by someone else
    order = make_order(quantity=2)
    item = only_item(order)
    shipment_create(order_id=order.pk, lines={item.pk: 1})

    # when: the form still asks for 2
    response = shipper.post(ship_url(order), {f"item_{item.pk}": 2, "_ship": "1"})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors[f"item_{item.pk}"] == [
        f"{item.label}: 2 is more than the 1 left to ship."
    ]
    assert only_item(order).quantity_shipped == 1


def test_mark_delivered_from_the_ship_page(shipper: Client) -> None:
    order = make_order()
    shipment = shipment_create(order_id=order.pk)
    assert shipper.post(ship_url(order), {"_deliver": str(shipment.pk)}).status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).delivered_at is not None
    again = shipper.post(ship_url(order), {"_deliver": str(shipment.pk)}, follow=True)
    assert "already marked delivered" in again.content.decode()


def test_a_refunded_order_shows_why_it_does_not_ship(shipper: Client) -> None:
    order = make_order(status=S.REFUNDED, amount_refunded=149_900 * 2)
    page = shipper.get(ship_url(order)).content.decode()
    assert "Only a paid order ships" in page


def test_the_ship_page_needs_the_permission() -> None:
    order = make_order()
    viewer = admin_client_for(staff_user("checkout.view_order"))
    assert viewer.get(ship_url(order)).status_code == 403
    assert (
        'id="ship-button"'
        not in viewer.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    )


def test_shipped_items_can_be_refunded_and_the_order_shows_both(stripe_env: FakeStripeServer) -> None:
    # given: a paid order (a real payment at fakestripe), one of its 2 units shipped
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    shipment_create(order_id=order.pk, lines={only_item(order).pk: 1}, carrier="DHL")
    staff = staff_user("checkout.view_order", "checkout.refund_order", "checkout.ship_order")

    # when: the shipped unit is refunded
    refunded = order_refund(order_id=order.pk, amount=50_000, staff_user=staff)

    # then: refunded in part, still half shipped, and it can ship the rest
    assert refunded.status == S.PARTIALLY_REFUNDED
    assert refunded.fulfilment_status == "partially_fulfilled"
    page = (
        admin_client_for(staff).get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    )
    assert "DHL" in page
    assert "₹500.00" in page
    assert 'id="ship-button"' in page
