"""The ``/_fake/`` control API for tests and scripts: pay, settle, faults, config, clock, events, reset.

Also ``POST /_fake/promotion_codes`` and ``POST /_fake/checkout/sessions/{id}/tamper`` (shipping.py).

Also ``POST /_fake/refunds/{id}/settle`` (``outcome``, ``failure_reason``) for the refund lifecycle.

No auth. Every control answers 200 with JSON; errors are raised as :class:`StripeError`.
"""

from __future__ import annotations

import json
import re

from fakestripe import forms
from fakestripe.errors import StripeError, invalid
from fakestripe.events import event_records
from fakestripe.faults import faults_set
from fakestripe.payments import session_pay, session_settle
from fakestripe.refunds import refund_settle
from fakestripe.sessions import session_get, session_render
from fakestripe.settlement import SETTLEMENT_MINIMUMS
from fakestripe.shipping import promotion_code_create, session_tamper
from fakestripe.store import Obj, Store
from fakestripe.webhooks import Sender

_ID = r"([A-Za-z0-9_]+)"
_SESSION_ACTION = re.compile(rf"^/_fake/checkout/sessions/{_ID}/(pay|settle|tamper)$")
_DELIVER = re.compile(rf"^/_fake/events/{_ID}/deliver$")
_REFUND_SETTLE = re.compile(rf"^/_fake/refunds/{_ID}/settle$")
CONFIG_KEYS = ("webhook_url", "webhook_secret", "auto_deliver", "settlement_currency")


def _payload(raw: bytes, content_type: str) -> Obj:
    """A POST body as JSON (by content type or a leading ``{``) or as a form."""
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        data = json.loads(text or "{}")
        if not isinstance(data, dict):
            raise invalid("Expected a JSON object", None)
        return data
    return forms.parse(text)


def _deliver(store: Store, sender: Sender, event_id: str) -> Obj:
    with store.lock:
        if event_id not in store.events_by_id:
            raise StripeError(
                404, "invalid_request_error", "No such event", code="resource_missing", param="id"
            )
        if not store.config.get("webhook_url"):
            raise invalid("No webhook_url configured.", "webhook_url")
    return sender.deliver_once(event_id, "manual")


def _config(store: Store, payload: Obj) -> Obj:
    if "settlement_currency" in payload:
        payload["settlement_currency"] = settlement_currency(str(payload["settlement_currency"]))
    with store.lock:
        for k in CONFIG_KEYS:
            if k in payload:
                store.config[k] = payload[k]
        return dict(store.config)


def settlement_currency(value: str) -> str:
    """A settlement currency Stripe lists a minimum for (lowercased), or ValueError."""
    cur = value.lower()
    if cur not in SETTLEMENT_MINIMUMS:
        raise ValueError(f"settlement_currency must be one of {', '.join(sorted(SETTLEMENT_MINIMUMS))}")
    return cur


def control_answer(
    store: Store, sender: Sender, method: str, path: str, query: str, raw: bytes, content_type: str
) -> Obj:
    """Run the control at ``path`` and return its JSON answer (404 for an unknown one)."""
    try:
        payload = _payload(raw, content_type) if method == "POST" else forms.parse(query)
    except json.JSONDecodeError as exc:
        raise invalid(f"Invalid JSON: {exc}", None) from None
    m = _SESSION_ACTION.match(path)
    if method == "POST" and m:
        if m.group(2) == "pay":
            return session_pay(store, m.group(1), str(payload.get("card", "")), payload)
        if m.group(2) == "tamper":
            with store.lock:
                return session_render(
                    store, session_tamper(store, session_get(store, m.group(1)), payload), None
                )
        return session_settle(store, m.group(1), str(payload.get("outcome", "")))
    m = _REFUND_SETTLE.match(path)
    if method == "POST" and m:
        reason = str(payload.get("failure_reason") or "") or None
        return refund_settle(store, m.group(1), str(payload.get("outcome", "")), reason)
    m = _DELIVER.match(path)
    if method == "POST" and m:
        return _deliver(store, sender, m.group(1))
    if method == "GET" and path == "/_fake/events":
        return {"object": "list", "data": event_records(store, payload.get("type"))}
    if method == "GET" and path == "/_fake/health":
        return {"ok": True, "base_url": store.base_url}
    if method == "POST" and path == "/_fake/promotion_codes":
        with store.lock:
            return promotion_code_create(store, payload)
    if method == "POST" and path == "/_fake/faults":
        return faults_set(store, payload)
    if method == "POST" and path == "/_fake/config":
        return _config(store, payload)
    if method == "POST" and path == "/_fake/clock":
        with store.lock:
            return store.clock.advance(int(payload.get("advance_seconds", 0)))
    if method == "POST" and path == "/_fake/reset":
        store.reset()
        return {"ok": True}
    raise StripeError(
        404, "invalid_request_error", f"Unrecognized fakestripe control URL ({method}: {path})."
    )
