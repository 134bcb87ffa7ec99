"""Fulfilment: staff record shipments of paid orders ("Mark shipped") and their delivery.

Why an item can never be shipped twice, or more than was ordered:
- `shipment_create` locks the order row first (`checkout.locks.lock_order`; it takes no cart and
  no variant, so it cannot deadlock with checkout or settlement), then reads the items' shipped
  quantities: two staff marking the same order shipped run one after the other, and the second
  sees what the first shipped;
- each item's `quantity_shipped` grows by a conditional `F()` update, and the database refuses
  a value above the ordered quantity (`checkout_orderitem_shipped_within_quantity`), so even a
  caller that skipped the lock could not over-ship.

Only paid and partially refunded orders ship (a refunded, pending, failed, expired or cancelled
order is refused); refunding shipped items stays allowed (checkout/services/refunds.py does not
look at shipments). In the shipment's transaction the order history gets a `shipped` event and
`checkout.states.order_notice` runs (the outbox sends `order.shipped` and the buyer's email);
`shipment_deliver` does the same with `delivered`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from checkout.locks import lock_order
from checkout.models import Order, OrderEvent, OrderItem, Shipment, ShipmentItem
from checkout.states import OrderNotice, OrderStatus, order_notice
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, NotFoundError

SHIPPABLE_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED})


def _username(staff_user: AbstractBaseUser | AnonymousUser | None) -> str:
    return str(getattr(staff_user, "get_username", lambda: "")() or "")


def _quantity_error(message: str, field: str) -> DomainError:
    return DomainError(message, code=ErrorCode.SHIPMENT_QUANTITY_INVALID, field=field)


def _wanted(items: dict[int, OrderItem], lines: Mapping[int, int] | None) -> dict[int, int]:
    """Item id → units to ship now: every unit not shipped yet (`lines` None), or `lines` checked
    against what is left of each item."""
    if lines is None:
        return {
            pk: item.quantity - item.quantity_shipped
            for pk, item in items.items()
            if item.quantity_shipped < item.quantity
        }
    wanted = {}
    for pk, quantity in lines.items():
        item = items.get(pk)
        if item is None:
            raise _quantity_error(f"Item {pk} is not part of this order.", f"items.{pk}")
        left = item.quantity - item.quantity_shipped
        if quantity < 0 or quantity > left:
            raise _quantity_error(
                f"{item.label}: {quantity} is more than the {left} left to ship."
                if quantity > left
                else f"{item.label}: a quantity cannot be negative.",
                f"items.{pk}.quantity",
            )
        if quantity:
            wanted[pk] = quantity
    return wanted


def shipment_create(
    *,
    order_id: UUID | str,
    lines: Mapping[int, int] | None = None,
    carrier: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
    shipped_at: datetime | None = None,
    staff_user: AbstractBaseUser | AnonymousUser | None = None,
    source: str = OrderEvent.Source.ADMIN,
) -> Shipment:
    """Record a shipment of a paid order: `lines` maps order item ids to units (None: everything
    not shipped yet). Raises `NotFoundError` for an unknown order, `ConflictError`
    (`order_not_shippable`) unless it is paid or partially refunded, and `DomainError`
    (`shipment_quantity_invalid`, naming the item) for an item of another order, a negative
    quantity, more than is left to ship, or nothing to ship. On any error nothing is written."""
    with transaction.atomic(durable=True):
        order = lock_order(order_id)
        if order is None:
            raise NotFoundError("Order not found.", code=ErrorCode.ORDER_NOT_FOUND)
        if order.status not in SHIPPABLE_STATUSES:
            raise ConflictError(
                f"Only a paid order ships; order {order.number} is {order.get_status_display()}.",
                code=ErrorCode.ORDER_NOT_SHIPPABLE,
            )
        items = {item.pk: item for item in OrderItem.objects.filter(order=order).order_by("id")}
        wanted = _wanted(items, lines)
        if not wanted:
            raise _quantity_error(
                "Nothing to ship: every unit has shipped, or no quantity was given.", "items"
            )
        shipment = Shipment.objects.create(
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            shipped_at=shipped_at or timezone.now(),
            created_by=_username(staff_user),
        )
        ShipmentItem.objects.bulk_create(
            [
                ShipmentItem(shipment=shipment, order_item_id=pk, quantity=quantity)
                for pk, quantity in wanted.items()
            ]
        )
        for pk, quantity in wanted.items():
            OrderItem.objects.filter(pk=pk).update(quantity_shipped=F("quantity_shipped") + quantity)
        units = sum(wanted.values())
        what = f"{units} unit{'s' if units != 1 else ''}"
        via = " ".join(part for part in (carrier, tracking_number) if part)
        _history(
            order,
            OrderEvent.Kind.SHIPPED,
            source,
            f"shipment {shipment.pk}: {what}" + (f" ({via})" if via else ""),
        )
        order_notice(OrderNotice(order_id=order.pk, kind="shipped", object_id=str(shipment.pk)))
    return shipment


def shipment_deliver(
    *,
    shipment_id: int,
    staff_user: AbstractBaseUser | AnonymousUser | None = None,
    source: str = OrderEvent.Source.ADMIN,
) -> Shipment:
    """Mark a shipment delivered, once: `ConflictError` (`shipment_already_delivered`) after that."""
    with transaction.atomic(durable=True):
        shipment = Shipment.objects.filter(pk=shipment_id).first()
        if shipment is None:
            raise NotFoundError("Shipment not found.", code=ErrorCode.NOT_FOUND)
        order = lock_order(shipment.order_id)
        assert order is not None  # PROTECT: a shipment's order is never deleted
        now = timezone.now()
        if not Shipment.objects.filter(pk=shipment.pk, delivered_at__isnull=True).update(
            delivered_at=now, updated_at=now
        ):
            raise ConflictError(
                f"Shipment {shipment.pk} is already marked delivered.",
                code=ErrorCode.SHIPMENT_ALREADY_DELIVERED,
            )
        shipment.delivered_at = now
        who = _username(staff_user)
        _history(
            order,
            OrderEvent.Kind.DELIVERED,
            source,
            f"shipment {shipment.pk} delivered" + (f" ({who})" if who else ""),
        )
        order_notice(OrderNotice(order_id=order.pk, kind="delivered", object_id=str(shipment.pk)))
    return shipment


def _history(order: Order, kind: str, source: str, message: str) -> None:
    """An order-history entry that changes no status (from = to = the order's status)."""
    OrderEvent.objects.create(
        order=order,
        from_status=order.status,
        to_status=order.status,
        kind=kind,
        source=source,
        message=message,
    )
