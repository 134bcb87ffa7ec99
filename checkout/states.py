"""The order state machine: the statuses, the from → to table, the status sets, labels, colours, hooks.

Everything about a status lives here and nowhere else. A new status is a member of `OrderStatus`
(plus the migration Django makes for the field's choices), its rows in `TRANSITIONS`, its colour
and the sets it belongs to; the API, the admin (badges, counts, filters) and the services read
them from here. The one function that applies a transition is
`checkout.services.transitions.order_transition`; it calls the hooks registered here, inside the
transaction that moved the order.

    pending ──> paid ──> partially_refunded ──> refunded
       │          └──────────────────────────────^
       │        (a refund that fails after succeeding moves the order back: refunded →
       │         partially_refunded → paid)
       ├──> failed      (the payment failed; paid after all if an unknown session of it was paid)
       ├──> expired     (the payment session closed unpaid)
       └──> cancelled   (by the customer, or superseded by a new checkout of the cart)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


S = OrderStatus

# from_status -> the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PAID, S.FAILED, S.EXPIRED, S.CANCELLED}),
    # Money taken through a session the order never learned of (settlement): never refused.
    S.FAILED: frozenset({S.PAID}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    # partially_refunded -> partially_refunded is a further partial refund (or a failed one).
    # The moves back are refunds that failed after they had succeeded.
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.PAID}),
    S.REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.PAID}),
}

# The money was taken (it may since have been refunded in part or in whole).
PAID_STATUSES = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED})
# Something is left to refund.
REFUNDABLE_STATUSES = frozenset({S.PAID, S.PARTIALLY_REFUNDED})
# Nothing moves the order any more.
FINAL_STATUSES = frozenset(status for status in S.values if not TRANSITIONS.get(status))

# Display labels and badge colours (white text on these passes WCAG AA). A status missing here
# still renders: with its value as the label and the neutral colour.
LABELS: dict[str, str] = dict(S.choices)
COLOURS: dict[str, str] = {
    S.PENDING: "#8a5a00",
    S.PAID: "#1e7b34",
    S.FAILED: "#b42318",
    S.EXPIRED: "#5c6370",
    S.CANCELLED: "#3f4753",
    S.PARTIALLY_REFUNDED: "#6941c6",
    S.REFUNDED: "#175cd3",
}
NEUTRAL_COLOUR = "#444444"


def transition_allowed(frm: str, to: str) -> bool:
    """Whether the table allows `frm -> to`."""
    return to in TRANSITIONS.get(frm, frozenset())


def sources_of(to: str) -> list[str]:
    """Every status that may move to `to`, in a fixed order."""
    return sorted(frm for frm, targets in TRANSITIONS.items() if to in targets)


def status_label(status: str) -> str:
    return LABELS.get(status, status or "—")


def status_colour(status: str) -> str:
    return COLOURS.get(status, NEUTRAL_COLOUR)


def status_choices() -> list[tuple[str, str]]:
    """`(value, label)` of every status, in the order staff see them."""
    return list(LABELS.items())


class _Refundable(Protocol):
    status: str
    payment_id: str
    total_amount: int
    amount_refunded: int
    amount_refund_pending: int


def refundable_amount(order: _Refundable) -> int:
    """What is left to refund: neither refunded nor in a refund still pending."""
    return order.total_amount - order.amount_refunded - order.amount_refund_pending


def can_refund(order: _Refundable) -> bool:
    """Paid, with a provider payment to refund against, and something left to refund."""
    return order.status in REFUNDABLE_STATUSES and bool(order.payment_id) and refundable_amount(order) > 0


# --------------------------------------------------------------------------- hooks


@dataclass(frozen=True)
class Transition:
    """One applied transition, as the hooks see it (inside the transaction that made it)."""

    order_id: UUID | str
    from_status: str
    to_status: str
    source: str
    provider_event_id: str


TransitionHook = Callable[[Transition], None]
_hooks: list[TransitionHook] = []


def on_transition(hook: TransitionHook) -> TransitionHook:
    """Register `hook` to run after every transition, in its transaction (usable as a decorator)."""
    _hooks.append(hook)
    return hook


def transition_hooks() -> tuple[TransitionHook, ...]:
    return tuple(_hooks)


@dataclass(frozen=True)
class OrderNotice:
    """Something that happened to an order without a status change: `shipped` or `delivered` (a
    shipment was recorded or arrived; `object_id` is its id) or `oversold` (a payment arrived for
    stock others had taken).

    Whoever records it calls `order_notice(...)` inside the transaction that wrote it, so the
    hooks (the outbox: outbound webhooks, buyer emails) commit or roll back with it.
    """

    order_id: UUID | str
    kind: str
    object_id: str = ""


NoticeHook = Callable[[OrderNotice], None]
_notice_hooks: list[NoticeHook] = []


def on_notice(hook: NoticeHook) -> NoticeHook:
    """Register `hook` to run for every order notice, in its transaction (usable as a decorator)."""
    _notice_hooks.append(hook)
    return hook


def order_notice(notice: OrderNotice) -> None:
    """Run every registered notice hook; call it inside the transaction that recorded the notice."""
    for hook in tuple(_notice_hooks):
        hook(notice)
