"""The outbox subscribes to every order transition and notice: no call site can forget an event.

Both hooks run inside the transaction that changed the order, so the outbox row commits (or rolls
back) with the change it reports; the job that dispatches it is enqueued only on commit.
"""

from __future__ import annotations

from checkout.states import OrderNotice, Transition, on_notice, on_transition
from notifications.events import event_type_for_notice, event_type_for_transition
from notifications.outbox import outbox_record


@on_transition
def _outbox_on_transition(change: Transition) -> None:
    event_type = event_type_for_transition(change)
    if event_type is not None:
        outbox_record(order_id=change.order_id, event_type=event_type)


@on_notice
def _outbox_on_notice(notice: OrderNotice) -> None:
    event_type = event_type_for_notice(notice)
    if event_type is not None:
        outbox_record(order_id=notice.order_id, event_type=event_type, object_id=notice.object_id)
