"""In-memory Stripe state: checkout sessions, payment intents, charges, refunds, events.

Every public method takes the store lock, so callers may use it from many threads.
Methods that change state append Stripe events to an outbox that the HTTP layer
hands to the webhook sender after the response has been written.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import threading
import time
from pathlib import Path
from typing import Any

from fakestripe import API_VERSION
from fakestripe.errors import StripeError, invalid, missing_param, no_such

Obj = dict[str, Any]

_ALNUM = string.ascii_letters + string.digits

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
EXPIRY_SLACK = 5  # seconds of tolerance for client/server clock skew

# Parameters Stripe knows for POST /v1/checkout/sessions. Ones fakestripe does not
# model are accepted and ignored; anything else is rejected like Stripe does.
SESSION_CREATE_PARAMS = frozenset(
    (
        "adaptive_pricing",
        "after_expiration",
        "allow_promotion_codes",
        "allowed_payment_method_types",
        "automatic_tax",
        "billing_address_collection",
        "branding_settings",
        "cancel_url",
        "client_reference_id",
        "consent_collection",
        "currency",
        "custom_fields",
        "custom_text",
        "customer",
        "customer_account",
        "customer_creation",
        "customer_email",
        "customer_update",
        "discounts",
        "excluded_payment_method_types",
        "expand",
        "expires_at",
        "integration_identifier",
        "invoice_creation",
        "line_items",
        "locale",
        "managed_payments",
        "metadata",
        "mode",
        "name_collection",
        "optional_items",
        "origin_context",
        "payment_intent_data",
        "payment_method_collection",
        "payment_method_configuration",
        "payment_method_data",
        "payment_method_options",
        "payment_method_types",
        "permissions",
        "phone_number_collection",
        "redirect_on_completion",
        "return_url",
        "saved_payment_method_options",
        "setup_intent_data",
        "shipping_address_collection",
        "shipping_options",
        "submit_type",
        "subscription_data",
        "success_url",
        "tax_id_collection",
        "ui_mode",
        "wallet_options",
    )
)
REFUND_CREATE_PARAMS = frozenset(
    (
        "amount",
        "charge",
        "currency",
        "customer",
        "expand",
        "instructions_email",
        "metadata",
        "origin",
        "payment_intent",
        "reason",
        "refund_application_fee",
        "reverse_transfer",
    )
)
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

CARD_SUCCESS = "4242424242424242"
CARD_DECLINE = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_ASYNC = "4000003800000446"


def new_id(prefix: str, length: int = 24) -> str:
    """Return a Stripe-looking random id such as ``pi_3Nf…``."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def _check_unknown(params: Obj, allowed: frozenset[str]) -> None:
    for key in params:
        if key not in allowed:
            raise invalid(f"Received unknown parameter: {key}", key)


def _int_param(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param) from None


def _metadata(value: Any, param: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise invalid("Invalid metadata value: must be a string", f"{param}[{k}]")
        if v != "":
            out[str(k)] = v
    return out


def _list_obj(url: str, items: list[Obj], params: Obj) -> Obj:
    """Paginate ``items`` (already in Stripe order) the way Stripe list endpoints do."""
    limit = _int_param(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise invalid(
            "Invalid limit: must be at least 1 and at most 100",
            "limit",
        )
    start = 0
    after = params.get("starting_after")
    before = params.get("ending_before")
    ids = [it["id"] for it in items]
    if after:
        if after not in ids:
            raise no_such("object", str(after), "starting_after")
        start = ids.index(after) + 1
        page = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before:
        if before not in ids:
            raise no_such("object", str(before), "ending_before")
        end = ids.index(before)
        begin = max(0, end - limit)
        page = items[begin:end]
        has_more = begin > 0
    else:
        page = items[:limit]
        has_more = limit < len(items)
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


class Store:
    """All fake Stripe state plus the runtime knobs (faults, webhook config, clock)."""

    def __init__(
        self,
        base_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        state_file: str | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self.state_file = Path(state_file) if state_file else None
        self._initial_config: Obj = {
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "auto_deliver": True,
        }
        self.config: Obj = dict(self._initial_config)
        self.generation = 0  # bumped on reset so stale webhook retries stop
        self.outbox: list[str] = []
        self._clear()
        if self.state_file and self.state_file.exists():
            self._load()

    # ----------------------------------------------------------------- state
    def _clear(self) -> None:
        self.sessions: dict[str, Obj] = {}
        self.line_items: dict[str, list[Obj]] = {}
        # Per-session data Stripe does not show on the session (payment_intent_data).
        self.session_private: dict[str, Obj] = {}
        self.payment_intents: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.refunds: dict[str, Obj] = {}
        self.events: list[Obj] = []  # {"event": {...}, "attempts": [...]}
        self.events_by_id: dict[str, Obj] = {}
        # (api_key, idempotency_key) -> {"fingerprint", "state", "status", "body"}
        self.idempotency: dict[tuple[str, str], Obj] = {}
        self.faults: Obj = {"fail_next": 0, "status": 500, "latency_ms": 0}
        self.clock_offset = 0

    def reset(self) -> None:
        """Forget everything: objects, events, idempotency keys, faults, clock, config."""
        with self.lock:
            self._clear()
            self.config = dict(self._initial_config)
            self.generation += 1
            self.outbox = []
            self.save()

    def now(self) -> int:
        """Current fake time (real time plus the /_fake/clock offset)."""
        return int(time.time()) + self.clock_offset

    def save(self) -> None:
        """Persist state to --state-file (atomic rename), if configured."""
        if not self.state_file:
            return
        with self.lock:
            data = {
                "sessions": self.sessions,
                "line_items": self.line_items,
                "session_private": self.session_private,
                "payment_intents": self.payment_intents,
                "charges": self.charges,
                "refunds": self.refunds,
                "events": self.events,
                "idempotency": [[k[0], k[1], v] for k, v in self.idempotency.items() if v["state"] == "done"],
                "clock_offset": self.clock_offset,
            }
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.state_file)

    def _load(self) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text())
        self.sessions = data.get("sessions", {})
        self.line_items = data.get("line_items", {})
        self.session_private = data.get("session_private", {})
        self.payment_intents = data.get("payment_intents", {})
        self.charges = data.get("charges", {})
        self.refunds = data.get("refunds", {})
        self.events = data.get("events", [])
        self.events_by_id = {rec["event"]["id"]: rec for rec in self.events}
        self.idempotency = {(a, b): v for a, b, v in data.get("idempotency", [])}
        self.clock_offset = int(data.get("clock_offset", 0))

    # ---------------------------------------------------------------- events
    def emit(self, type_: str, obj: Obj, request_id: str | None = None) -> Obj:
        """Record an event (snapshot of ``obj``) and queue it for webhook delivery."""
        with self.lock:
            event: Obj = {
                "id": new_id("evt_"),
                "object": "event",
                "api_version": API_VERSION,
                "created": self.now(),
                "data": {"object": copy.deepcopy(obj)},
                "livemode": False,
                "pending_webhooks": 1 if self.config.get("webhook_url") else 0,
                "request": {"id": request_id, "idempotency_key": None},
                "type": type_,
            }
            record: Obj = {"event": event, "attempts": [], "last_status": None, "delivered": False}
            self.events.append(record)
            self.events_by_id[event["id"]] = record
            self.outbox.append(event["id"])
            return event

    def take_outbox(self) -> list[str]:
        """Return and clear the ids of events not yet handed to the sender."""
        with self.lock:
            out, self.outbox = self.outbox, []
            return out

    # ------------------------------------------------------ checkout sessions
    def create_session(self, params: Obj) -> Obj:
        """POST /v1/checkout/sessions."""
        with self.lock:
            _check_unknown(params, SESSION_CREATE_PARAMS)
            mode = params.get("mode")
            if not mode:
                raise missing_param("mode")
            if mode != "payment":
                raise invalid(f"fakestripe only supports mode=payment, not {mode!r}.", "mode")
            success_url = params.get("success_url")
            if not success_url:
                raise missing_param("success_url")
            for name in ("success_url", "cancel_url"):
                url = params.get(name)
                if url is not None and not str(url).startswith(("http://", "https://")):
                    raise invalid("Not a valid URL", name, "url_invalid")
            raw_items = params.get("line_items")
            if not raw_items:
                raise missing_param("line_items")
            if not isinstance(raw_items, list):
                raise invalid("Invalid array", "line_items")
            now = self.now()
            currency: str | None = None
            items: list[Obj] = []
            subtotal = 0
            for i, raw in enumerate(raw_items):
                p = f"line_items[{i}]"
                if not isinstance(raw, dict):
                    raise invalid("Invalid object", p)
                if "price" in raw:
                    raise no_such("price", str(raw["price"]), f"{p}[price]")
                pd = raw.get("price_data")
                if not isinstance(pd, dict):
                    raise invalid(
                        "You must specify either `price` or `price_data` for each line item.",
                        p,
                    )
                cur = str(pd.get("currency") or "").lower()
                if not cur:
                    raise missing_param(f"{p}[price_data][currency]")
                if len(cur) != 3 or not cur.isalpha():
                    raise invalid(f"Invalid currency: {cur}.", f"{p}[price_data][currency]")
                if currency is None:
                    currency = cur
                elif cur != currency:
                    raise invalid(
                        "Checkout does not support multiple currencies. All line items "
                        f"must use the same currency ({currency}).",
                        f"{p}[price_data][currency]",
                    )
                if pd.get("unit_amount") in (None, ""):
                    raise missing_param(f"{p}[price_data][unit_amount]")
                unit = _int_param(pd["unit_amount"], f"{p}[price_data][unit_amount]")
                if unit <= 0:
                    raise invalid(
                        "This value must be greater than 0.",
                        f"{p}[price_data][unit_amount]",
                    )
                prod = pd.get("product_data")
                if not isinstance(prod, dict) or not prod.get("name"):
                    raise missing_param(f"{p}[price_data][product_data][name]")
                if raw.get("quantity") in (None, ""):
                    raise missing_param(f"{p}[quantity]")
                qty = _int_param(raw["quantity"], f"{p}[quantity]")
                if qty <= 0:
                    raise invalid("This value must be greater than 0.", f"{p}[quantity]")
                amount = unit * qty
                subtotal += amount
                price: Obj = {
                    "id": new_id("price_"),
                    "object": "price",
                    "active": False,
                    "currency": cur,
                    "livemode": False,
                    "metadata": {},
                    "product": new_id("prod_", 14),
                    "type": "one_time",
                    "unit_amount": unit,
                    "unit_amount_decimal": str(unit),
                    "created": now,
                }
                items.append(
                    {
                        "id": new_id("li_"),
                        "object": "item",
                        "amount_discount": 0,
                        "amount_subtotal": amount,
                        "amount_tax": 0,
                        "amount_total": amount,
                        "currency": cur,
                        "description": str(prod["name"]),
                        "price": price,
                        "quantity": qty,
                    }
                )
            expires_at = now + MAX_EXPIRY
            if params.get("expires_at") not in (None, ""):
                expires_at = _int_param(params["expires_at"], "expires_at")
                if expires_at < now + MIN_EXPIRY - EXPIRY_SLACK:
                    raise invalid(
                        "The `expires_at` timestamp must be at least 30 minutes from "
                        "Checkout Session creation.",
                        "expires_at",
                    )
                if expires_at > now + MAX_EXPIRY + EXPIRY_SLACK:
                    raise invalid(
                        "The `expires_at` timestamp must be less than 24 hours from "
                        "Checkout Session creation.",
                        "expires_at",
                    )
            pid = params.get("payment_intent_data") or {}
            if not isinstance(pid, dict):
                raise invalid("Invalid object", "payment_intent_data")
            sid = new_id("cs_test_", 58)
            session: Obj = {
                "id": sid,
                "object": "checkout.session",
                "amount_subtotal": subtotal,
                "amount_total": subtotal,
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id") or None,
                "created": now,
                "currency": currency,
                "customer": None,
                "customer_email": params.get("customer_email") or None,
                "expires_at": expires_at,
                "livemode": False,
                "metadata": _metadata(params.get("metadata"), "metadata"),
                "mode": "payment",
                "payment_intent": None,
                "payment_status": "unpaid",
                "status": "open",
                "success_url": success_url,
                "ui_mode": "hosted",
                "url": f"{self.base_url}/pay/{sid}",
            }
            # Kept privately to build the PaymentIntent at payment time.
            self.session_private[sid] = {
                "pi_metadata": _metadata(pid.get("metadata"), "payment_intent_data[metadata]"),
                "pi_description": pid.get("description"),
            }
            self.sessions[sid] = session
            self.line_items[sid] = items
            return self.render_session(session, params.get("expand"))

    def render_session(self, session: Obj, expand: Any) -> Obj:
        """Copy of a session with ``expand`` applied (line_items, payment_intent)."""
        out = copy.deepcopy(session)
        fields = expand if isinstance(expand, list) else ([expand] if expand else [])
        for field in fields:
            if field == "line_items":
                out["line_items"] = _list_obj(
                    f"/v1/checkout/sessions/{session['id']}/line_items",
                    copy.deepcopy(self.line_items[session["id"]]),
                    {"limit": 100},
                )
            elif field == "payment_intent":
                pi = session.get("payment_intent")
                out["payment_intent"] = copy.deepcopy(self.payment_intents[pi]) if pi else None
            else:
                raise invalid(f"This property cannot be expanded ({field}).", "expand")
        return out

    def _get_session(self, sid: str) -> Obj:
        session = self.sessions.get(sid)
        if session is None:
            raise no_such("checkout.session", sid)
        self._maybe_expire(session)
        return session

    def _maybe_expire(self, session: Obj) -> None:
        if session["status"] == "open" and self.now() >= session["expires_at"]:
            self._expire(session)

    def _expire(self, session: Obj) -> None:
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)

    def retrieve_session(self, sid: str, params: Obj) -> Obj:
        """GET /v1/checkout/sessions/{id}."""
        with self.lock:
            return self.render_session(self._get_session(sid), params.get("expand"))

    def list_sessions(self, params: Obj) -> Obj:
        """GET /v1/checkout/sessions (newest first)."""
        with self.lock:
            sessions = list(self.sessions.values())
            for s in sessions:
                self._maybe_expire(s)
            sessions.reverse()
            if params.get("payment_intent"):
                sessions = [s for s in sessions if s["payment_intent"] == params["payment_intent"]]
            if params.get("status"):
                if params["status"] not in ("open", "complete", "expired"):
                    raise invalid(f"Invalid status: {params['status']}", "status")
                sessions = [s for s in sessions if s["status"] == params["status"]]
            if params.get("customer_details") and isinstance(params["customer_details"], dict):
                email = params["customer_details"].get("email")
                sessions = [s for s in sessions if s["customer_email"] == email]
            listed = _list_obj("/v1/checkout/sessions", [copy.deepcopy(s) for s in sessions], params)
            expand = params.get("expand")
            if expand:
                prefixed = [e[len("data.") :] for e in expand if str(e).startswith("data.")]
                listed["data"] = [self.render_session(s, prefixed) for s in listed["data"]]
            return listed

    def list_line_items(self, sid: str, params: Obj) -> Obj:
        """GET /v1/checkout/sessions/{id}/line_items."""
        with self.lock:
            self._get_session(sid)
            return _list_obj(
                f"/v1/checkout/sessions/{sid}/line_items",
                copy.deepcopy(self.line_items[sid]),
                params,
            )

    def expire_session(self, sid: str, params: Obj) -> Obj:
        """POST /v1/checkout/sessions/{id}/expire."""
        with self.lock:
            session = self._get_session(sid)
            if session["status"] != "open":
                raise invalid(
                    f'Only Checkout Sessions with a status in ["open"] can be expired. '
                    f'This Checkout Session has a status of "{session["status"]}".',
                    None,
                )
            self._expire(session)
            return self.render_session(session, params.get("expand"))

    # -------------------------------------------------------------- payments
    def pay(self, sid: str, card: str) -> Obj:
        """Pay an open session with a test card (hosted page and control endpoint)."""
        with self.lock:
            session = self._get_session(sid)
            if session["status"] == "complete":
                raise invalid("This Checkout Session has already been completed.", None)
            if session["status"] == "expired":
                raise invalid("This Checkout Session has expired.", None, "checkout_session_expired")
            number = "".join(card.split())
            if number in (CARD_DECLINE, CARD_INSUFFICIENT_FUNDS):
                decline = "generic_decline" if number == CARD_DECLINE else "insufficient_funds"
                msg = (
                    "Your card was declined."
                    if number == CARD_DECLINE
                    else "Your card has insufficient funds."
                )
                raise StripeError(402, "card_error", msg, code="card_declined", decline_code=decline)
            if number not in (CARD_SUCCESS, CARD_ASYNC):
                raise StripeError(
                    402,
                    "card_error",
                    "Your card number is incorrect.",
                    code="incorrect_number",
                    param="number",
                )
            settled = number == CARD_SUCCESS
            now = self.now()
            extra = self.session_private.get(sid, {})
            pi_id = new_id("pi_")
            ch_id = new_id("ch_")
            amount = session["amount_total"]
            self.payment_intents[pi_id] = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": amount if settled else 0,
                "capture_method": "automatic",
                "created": now,
                "currency": session["currency"],
                "description": extra.get("pi_description"),
                "latest_charge": ch_id,
                "livemode": False,
                "metadata": dict(extra.get("pi_metadata", {})),
                "payment_method_types": ["card"],
                "status": "succeeded" if settled else "processing",
            }
            self.charges[ch_id] = {
                "id": ch_id,
                "object": "charge",
                "amount": amount,
                "amount_captured": amount if settled else 0,
                "amount_refunded": 0,
                "captured": settled,
                "created": now,
                "currency": session["currency"],
                "livemode": False,
                "metadata": dict(extra.get("pi_metadata", {})),
                "paid": settled,
                "payment_intent": pi_id,
                "refunded": False,
                "status": "succeeded" if settled else "pending",
            }
            session["status"] = "complete"
            session["payment_status"] = "paid" if settled else "unpaid"
            session["payment_intent"] = pi_id
            self.emit("checkout.session.completed", session)
            return self.render_session(session, None)

    def settle(self, sid: str, outcome: str) -> Obj:
        """Finish an async (processing) payment: ``succeeded`` or ``failed``."""
        with self.lock:
            session = self._get_session(sid)
            if outcome not in ("succeeded", "failed"):
                raise invalid("outcome must be 'succeeded' or 'failed'", "outcome")
            pi_id = session.get("payment_intent")
            pi = self.payment_intents.get(pi_id) if pi_id else None
            if pi is None or pi["status"] != "processing":
                raise invalid(
                    "This Checkout Session has no payment waiting for async settlement.",
                    None,
                )
            charge = self.charges[pi["latest_charge"]]
            if outcome == "succeeded":
                pi["status"] = "succeeded"
                pi["amount_received"] = pi["amount"]
                charge.update(status="succeeded", paid=True, captured=True)
                charge["amount_captured"] = charge["amount"]
                session["payment_status"] = "paid"
                self.emit("checkout.session.async_payment_succeeded", session)
            else:
                pi["status"] = "requires_payment_method"
                charge["status"] = "failed"
                self.emit("checkout.session.async_payment_failed", session)
            return self.render_session(session, None)

    def retrieve_payment_intent(self, pi_id: str, params: Obj) -> Obj:
        """GET /v1/payment_intents/{id}."""
        with self.lock:
            pi = self.payment_intents.get(pi_id)
            if pi is None:
                raise no_such("payment_intent", pi_id)
            out = copy.deepcopy(pi)
            if "latest_charge" in (params.get("expand") or []):
                out["latest_charge"] = copy.deepcopy(self.charges[pi["latest_charge"]])
            return out

    def retrieve_charge(self, ch_id: str) -> Obj:
        """GET /v1/charges/{id}."""
        with self.lock:
            charge = self.charges.get(ch_id)
            if charge is None:
                raise no_such("charge", ch_id)
            return copy.deepcopy(charge)

    # --------------------------------------------------------------- refunds
    def create_refund(self, params: Obj) -> Obj:
        """POST /v1/refunds."""
        with self.lock:
            _check_unknown(params, REFUND_CREATE_PARAMS)
            if params.get("payment_intent"):
                pi_id = str(params["payment_intent"])
                pi = self.payment_intents.get(pi_id)
                if pi is None:
                    raise no_such("payment_intent", pi_id, "payment_intent")
                charge = self.charges[pi["latest_charge"]]
            elif params.get("charge"):
                ch_id = str(params["charge"])
                found = self.charges.get(ch_id)
                if found is None:
                    raise no_such("charge", ch_id, "charge")
                charge = found
                pi = self.payment_intents[charge["payment_intent"]]
            else:
                raise invalid(
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                    None,
                )
            if pi["status"] != "succeeded":
                raise invalid(
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                    "payment_intent",
                )
            left = charge["amount"] - charge["amount_refunded"]
            if left <= 0:
                raise invalid(
                    f"Charge {charge['id']} has already been refunded.",
                    None,
                    "charge_already_refunded",
                )
            amount = left
            if params.get("amount") not in (None, ""):
                amount = _int_param(params["amount"], "amount")
                if amount <= 0:
                    raise invalid("This value must be greater than 0.", "amount")
                if amount > left:
                    raise invalid(
                        f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                        "amount",
                        "amount_too_large",
                    )
            reason = params.get("reason") or None
            if reason is not None and reason not in REFUND_REASONS:
                raise invalid(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", "reason")
            re_id = new_id("re_")
            refund: Obj = {
                "id": re_id,
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": self.now(),
                "currency": charge["currency"],
                "metadata": _metadata(params.get("metadata"), "metadata"),
                "payment_intent": pi["id"],
                "reason": reason,
                "status": "succeeded",
            }
            self.refunds[re_id] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            self.emit("charge.refunded", charge)
            return copy.deepcopy(refund)

    def retrieve_refund(self, re_id: str) -> Obj:
        """GET /v1/refunds/{id}."""
        with self.lock:
            refund = self.refunds.get(re_id)
            if refund is None:
                raise no_such("refund", re_id)
            return copy.deepcopy(refund)

    # ---------------------------------------------------------------- events
    def retrieve_event(self, evt_id: str) -> Obj:
        """GET /v1/events/{id}."""
        with self.lock:
            rec = self.events_by_id.get(evt_id)
            if rec is None:
                raise no_such("event", evt_id)
            return copy.deepcopy(rec["event"])

    def list_events(self, params: Obj) -> Obj:
        """GET /v1/events (newest first, optional ``type`` filter)."""
        with self.lock:
            events = [copy.deepcopy(r["event"]) for r in reversed(self.events)]
            if params.get("type"):
                events = [e for e in events if e["type"] == params["type"]]
            return _list_obj("/v1/events", events, params)


def fault_error(status: int) -> StripeError:
    """The Stripe-shaped error answered for an injected fault."""
    if status == 429:
        return StripeError(
            429,
            "invalid_request_error",
            "Too many requests hit the API too quickly (fakestripe injected fault).",
            code="rate_limit",
        )
    return StripeError(
        status,
        "api_error",
        "An unknown error occurred (fakestripe injected fault).",
    )
