"""Order writes the customer makes: confirm after paying, cancel while pending.

Both end in settlement (`checkout/services/settlement.py`), the one mapping from what the
payment provider says to what happens to the order. Whose order it is: checkout/ownership.py
(a user's JWT, a guest's order token; for confirm, a guest order's session id as well).
"""

from __future__ import annotations

import uuid

from django.db import transaction

from checkout.locks import lock_cart, lock_order
from checkout.models import Order, OrderEvent
from checkout.ownership import OwnerLike, order_not_found, orders_confirmable_by, orders_of
from checkout.selectors.orders import order_get_for_owner, orders_with_children
from checkout.services.settlement import (
    CloseReason,
    order_session_close,
    order_session_resolve,
    order_session_unclear,
    order_settle,
)
from checkout.states import OrderStatus
from payments.interface import SessionState, gateway
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, PaymentProviderUnavailable

S = OrderStatus


def order_confirm(*, session_id: str, owner: OwnerLike) -> Order:
    """The caller's order (or a guest order) for `session_id`, settled from what the provider says.

    The order is looked up first (404 for unknown or someone else's session: the provider is
    never asked about a foreign session). Only a pending order needs the provider; a settled one
    is returned as it is, so refreshing the success page costs nothing.
    """
    scope = orders_confirmable_by(owner)
    order = scope.filter(provider_session_id=session_id).only("pk", "status").first()
    if order is None:
        raise order_not_found()
    if order.status == S.PENDING:
        session = gateway().session_retrieve(session_id=session_id)
        order_settle(session=session, source=OrderEvent.Source.API)
    return orders_with_children(scope).get(pk=order.pk)


def order_cancel(*, order_id: uuid.UUID, owner: OwnerLike) -> Order:
    """Cancel the caller's pending order and close its payment session.

    409 unless the order is pending; 409 too when the provider says the session was paid
    meanwhile (the order is then paid), failed (the order is then failed) or is processing a
    payment. A session that had already expired leaves the order `expired`. Takes the cart lock
    first (the fixed order: cart, then orders), so it serialises with a checkout of the cart. The
    order's ownership is what allows it (a guest cancels with the order token alone).
    """
    base = orders_of(owner).filter(pk=order_id).only("pk", "cart_id").first()
    if base is None:
        raise order_not_found()
    conflict: DomainError | None = None
    with transaction.atomic(durable=True):
        lock_cart(base.cart_id)  # carts holding orders are never deleted
        order = lock_order(order_id)
        assert order is not None  # orders are never deleted
        if order.status != S.PENDING:
            raise ConflictError(
                f"Only a pending order can be cancelled; this one is {order.status}.",
                code=ErrorCode.ORDER_NOT_PENDING,
            )
        try:
            order_session_resolve(order=order, source=OrderEvent.Source.API)  # after a timeout
            outcome = _close(order)
        except PaymentProviderUnavailable as exc:
            # The provider may have closed it: record that we don't know, so nobody hands the
            # session out again before asking (the 503 is raised after this commits).
            order_session_unclear(
                order=order, source=OrderEvent.Source.API, what="closing the payment session"
            )
            outcome, conflict = None, exc
        if outcome is SessionState.PROCESSING:
            raise ConflictError(
                "A payment for this order is being processed.", code=ErrorCode.PAYMENT_IN_PROGRESS
            )
        if outcome is SessionState.PAID:
            conflict = ConflictError("The order was paid meanwhile.", code=ErrorCode.ORDER_ALREADY_PAID)
        elif outcome is SessionState.FAILED:
            conflict = ConflictError(
                "The order's payment failed; it is now failed.", code=ErrorCode.ORDER_PAYMENT_FAILED
            )
        # CLOSED: the order is cancelled; EXPIRED: the session had expired, so is the order.
    if conflict is not None:
        raise conflict
    return order_get_for_owner(order_id=order_id, owner=owner)


def _close(order: Order) -> SessionState | str:
    """Close the pending order's session for the customer; what a resolved session already says."""
    if order.status == S.PENDING:
        return order_session_close(order=order, source=OrderEvent.Source.API, reason=CloseReason.CUSTOMER)
    settled: dict[str, SessionState] = {S.FAILED: SessionState.FAILED, S.EXPIRED: SessionState.EXPIRED}
    return settled.get(order.status, SessionState.PAID)  # resolving its session settled the order
