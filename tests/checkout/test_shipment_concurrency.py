"""Two (or ten) staff pressing "Mark shipped" on one order at once: each unit ships exactly once.

Real threads on PostgreSQL (`transaction=True`): `shipment_create` locks the order first, so the
second sees what the first shipped; the check constraint on `quantity_shipped` backs it.
"""

from __future__ import annotations

import pytest

from checkout.models import Order, OrderEvent, Shipment, ShipmentItem
from checkout.services.fulfilment import shipment_create
from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError
from tests.checkout.backoffice import make_order
from tests.checkout.conftest import run_concurrently

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _ship(order_id: object, lines: dict[int, int] | None) -> str:
    try:
        shipment_create(order_id=str(order_id), lines=lines)
    except DomainError as exc:
        return str(exc.code)
    return "shipped"


@pytest.mark.parametrize("workers", [2, 10])
def test_concurrent_mark_shipped_of_everything_ships_once(workers: int) -> None:
    # given: a paid order of 3 units
    order = make_order(quantity=3)

    # when: every staff member ships "everything left" at the same moment
    outcomes = run_concurrently([lambda: _ship(order.pk, None) for _ in range(workers)], workers=workers)

    # then
    assert sorted(outcomes) == sorted(
        ["shipped"] + [ErrorCode.SHIPMENT_QUANTITY_INVALID.value] * (workers - 1)
    )
    assert Shipment.objects.filter(order=order).count() == 1
    assert sum(ShipmentItem.objects.filter(shipment__order=order).values_list("quantity", flat=True)) == 3
    assert Order.objects.get(pk=order.pk).fulfilment_status == "fulfilled"
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.SHIPPED).count() == 1


def test_concurrent_partial_shipments_never_exceed_the_order() -> None:
    # given: 3 units; four staff each ship one
    order = make_order(quantity=3)
    item_id = order.items.get().pk

    # when
    outcomes = run_concurrently([lambda: _ship(order.pk, {item_id: 1}) for _ in range(4)], workers=4)

    # then: three ship one unit each, the fourth finds none left
    assert sorted(outcomes) == sorted(["shipped"] * 3 + [ErrorCode.SHIPMENT_QUANTITY_INVALID.value])
    assert order.items.get().quantity_shipped == 3
    assert Shipment.objects.filter(order=order).count() == 3
