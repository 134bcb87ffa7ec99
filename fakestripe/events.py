"""Stripe events: recording them (and queueing them for webhooks), ``/v1/events`` and the event log.

Every change Stripe reports calls :func:`event_emit`; the HTTP layer takes the queued ids with
:func:`event_take_outbox` after answering and hands them to :class:`fakestripe.webhooks.Sender`.
"""

from __future__ import annotations

import copy

from fakestripe import API_VERSION
from fakestripe.params import list_obj
from fakestripe.store import Obj, Store, lookup, new_id


def event_emit(store: Store, type_: str, obj: Obj, request_id: str | None = None) -> Obj:
    """Record an event (snapshot of ``obj``) and queue it for webhook delivery."""
    with store.lock:
        event: Obj = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": store.clock.now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1 if store.config.get("webhook_url") else 0,
            "request": {"id": request_id, "idempotency_key": None},
            "type": type_,
        }
        record: Obj = {"event": event, "attempts": [], "last_status": None, "delivered": False}
        store.events.append(record)
        store.events_by_id[event["id"]] = record
        store.outbox.append(event["id"])
        return event


def event_take_outbox(store: Store) -> list[str]:
    """Return and clear the ids of events not yet handed to the sender."""
    with store.lock:
        out, store.outbox = store.outbox, []
        return out


def event_retrieve(store: Store, evt_id: str, params: Obj) -> Obj:
    """GET /v1/events/{id}."""
    with store.lock:
        return copy.deepcopy(lookup(store.events_by_id, "event", evt_id)["event"])


def event_list(store: Store, params: Obj) -> Obj:
    """GET /v1/events (newest first, optional ``type`` filter)."""
    with store.lock:
        events = [copy.deepcopy(r["event"]) for r in reversed(store.events)]
        if params.get("type"):
            events = [e for e in events if e["type"] == params["type"]]
        return list_obj("/v1/events", events, params)


def event_records(store: Store, type_: str | None) -> list[Obj]:
    """GET /_fake/events: ``{event, attempts, last_status, delivered}`` records, oldest first."""
    with store.lock:
        data = copy.deepcopy(store.events)
    if type_:
        data = [r for r in data if r["event"]["type"] == type_]
    return data
