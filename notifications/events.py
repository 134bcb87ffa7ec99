"""Which order changes become outbound events, and their names (the public `type` strings).

One table: a transition's target status (and, for `paid`, where it came from) or an order notice
names the event; anything not listed (e.g. a refund that failed moving the order back to `paid`)
is not announced. `order.delivered` is kept in the order history only.
"""

from __future__ import annotations

from checkout.states import OrderNotice, OrderStatus, Transition

S = OrderStatus

ORDER_PAID = "order.paid"
ORDER_FAILED = "order.failed"
ORDER_EXPIRED = "order.expired"
ORDER_CANCELLED = "order.cancelled"
ORDER_PARTIALLY_REFUNDED = "order.partially_refunded"
ORDER_REFUNDED = "order.refunded"
ORDER_SHIPPED = "order.shipped"
ORDER_OVERSOLD = "order.oversold"

EVENT_TYPES: tuple[str, ...] = (
    ORDER_PAID,
    ORDER_FAILED,
    ORDER_EXPIRED,
    ORDER_CANCELLED,
    ORDER_PARTIALLY_REFUNDED,
    ORDER_REFUNDED,
    ORDER_SHIPPED,
    ORDER_OVERSOLD,
)

_BY_STATUS = {
    S.FAILED: ORDER_FAILED,
    S.EXPIRED: ORDER_EXPIRED,
    S.CANCELLED: ORDER_CANCELLED,
    S.PARTIALLY_REFUNDED: ORDER_PARTIALLY_REFUNDED,
    S.REFUNDED: ORDER_REFUNDED,
}
_BY_NOTICE = {"shipped": ORDER_SHIPPED, "oversold": ORDER_OVERSOLD}


def event_type_for_transition(change: Transition) -> str | None:
    """The event a transition announces, or None."""
    if change.to_status == S.PAID:
        # Paid for the first time (from pending, or failed then paid after all); a refund that
        # failed and moved the order back to paid is not a new payment.
        return ORDER_PAID if change.from_status in (S.PENDING, S.FAILED) else None
    return _BY_STATUS.get(OrderStatus(change.to_status))


def event_type_for_notice(notice: OrderNotice) -> str | None:
    return _BY_NOTICE.get(notice.kind)


# The buyer email each event sends (template name under notifications/templates/notifications/email/).
EMAIL_FOR_EVENT = {
    ORDER_PAID: "receipt",
    ORDER_SHIPPED: "shipped",
    ORDER_PARTIALLY_REFUNDED: "refunded",
    ORDER_REFUNDED: "refunded",
}
