"""Checkout Sessions: create, retrieve (with ``expand``), list, line items, expire, lazy expiry.

Shipping, promotion codes, tax and the totals they make: ``shipping.py``.
"""

from __future__ import annotations

import copy
from typing import Any

from fakestripe.errors import invalid, missing_param, no_such
from fakestripe.events import event_emit
from fakestripe.params import check_unknown, int_param, list_obj, metadata
from fakestripe.settlement import check_minimum
from fakestripe.shapes import price_defaults, session_defaults
from fakestripe.shipping import rate_expanded, session_extras, session_open
from fakestripe.store import Obj, Store, lookup, new_id

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
EXPIRY_SLACK = 5  # seconds of tolerance for client/server clock skew
# "For `payment` mode, there is a maximum of 100 line items" (SessionCreateParams.line_items).
MAX_LINE_ITEMS = 100
# The ui_mode enum since 2026-03-25.dahlia (hosted_page replaced hosted); only hosted is modelled.
UI_MODES = ("elements", "embedded_page", "form", "hosted_page")

# Parameters Stripe knows for POST /v1/checkout/sessions (exactly the pinned SDK's
# SessionCreateParams: tests/fakestripe/test_sdk_contract.py). Ones fakestripe does not model
# are accepted and ignored; anything else is rejected like Stripe does.
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


def _line_items(raw_items: list[Any], now: int) -> tuple[str | None, list[Obj], int]:
    """Validate ``line_items[n][price_data]…``; return (currency, line items, subtotal)."""
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
        unit = int_param(pd["unit_amount"], f"{p}[price_data][unit_amount]")
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
        qty = int_param(raw["quantity"], f"{p}[quantity]")
        if qty <= 0:
            raise invalid("This value must be greater than 0.", f"{p}[quantity]")
        amount = unit * qty
        subtotal += amount
        price: Obj = {
            **price_defaults(),
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
    return currency, items, subtotal


def _expires_at(params: Obj, now: int) -> int:
    """``expires_at`` (30 minutes to 24 hours from now), 24 hours when not sent."""
    expires_at = now + MAX_EXPIRY
    if params.get("expires_at") not in (None, ""):
        expires_at = int_param(params["expires_at"], "expires_at")
        if expires_at < now + MIN_EXPIRY - EXPIRY_SLACK:
            raise invalid(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                "expires_at",
            )
        if expires_at > now + MAX_EXPIRY + EXPIRY_SLACK:
            raise invalid(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                "expires_at",
            )
    return expires_at


def _check_ui_mode(value: Any) -> None:
    """Only ``hosted_page`` (the default); other values of Stripe's enum are not modelled."""
    if value in (None, "", "hosted_page"):
        return
    if value not in UI_MODES:
        raise invalid(f"Invalid ui_mode: must be one of {', '.join(UI_MODES)}", "ui_mode")
    raise invalid(f"fakestripe only supports ui_mode=hosted_page, not {value!r}.", "ui_mode")


def session_create(store: Store, params: Obj) -> Obj:
    """POST /v1/checkout/sessions."""
    with store.lock:
        check_unknown(params, SESSION_CREATE_PARAMS)
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
        if len(raw_items) > MAX_LINE_ITEMS:
            raise invalid(
                f"You may only specify up to {MAX_LINE_ITEMS} line items in `payment` mode; "
                f"you specified {len(raw_items)}.",
                "line_items",
            )
        _check_ui_mode(params.get("ui_mode"))
        now = store.clock.now()
        currency, items, subtotal = _line_items(raw_items, now)
        assert currency is not None
        check_minimum(subtotal, currency, str(store.config["settlement_currency"]))
        expires_at = _expires_at(params, now)
        pid = params.get("payment_intent_data") or {}
        if not isinstance(pid, dict):
            raise invalid("Invalid object", "payment_intent_data")
        sid = new_id("cs_test_", 58)
        session: Obj = {
            **session_defaults(),
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
            "metadata": metadata(params.get("metadata"), "metadata"),
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": success_url,
            "ui_mode": "hosted_page",
            "url": f"{store.base_url}/pay/{sid}",
        }
        # Kept privately to build the PaymentIntent at payment time.
        session.update(session_extras(store, params, currency, now))
        session_open(store, session)
        store.session_private[sid] = {
            "pi_metadata": metadata(pid.get("metadata"), "payment_intent_data[metadata]"),
            "pi_description": pid.get("description"),
        }
        store.sessions[sid] = session
        store.line_items[sid] = items
        return session_render(store, session, params.get("expand"))


def session_render(store: Store, session: Obj, expand: Any) -> Obj:
    """Copy of a session with ``expand`` applied (line_items, payment_intent)."""
    out = copy.deepcopy(session)
    fields = expand if isinstance(expand, list) else ([expand] if expand else [])
    for field in fields:
        if field == "line_items":
            out["line_items"] = list_obj(
                f"/v1/checkout/sessions/{session['id']}/line_items",
                copy.deepcopy(store.line_items[session["id"]]),
                {"limit": 100},
            )
        elif field == "payment_intent":
            pi = session.get("payment_intent")
            out["payment_intent"] = copy.deepcopy(store.payment_intents[pi]) if pi else None
        elif field == "shipping_cost.shipping_rate":
            cost = out.get("shipping_cost")
            if cost and isinstance(cost.get("shipping_rate"), str):
                cost["shipping_rate"] = rate_expanded(store, cost["shipping_rate"])
        else:
            raise invalid(f"This property cannot be expanded ({field}).", "expand")
    return out


def session_get(store: Store, sid: str) -> Obj:
    """The live session ``sid`` (expired first if its time has come), or 404. Hold the lock."""
    session = lookup(store.sessions, "checkout.session", sid)
    _expire_if_due(store, session)
    return session


def _expire_if_due(store: Store, session: Obj) -> None:
    if session["status"] == "open" and store.clock.now() >= session["expires_at"]:
        _expire(store, session)


def sessions_expire_due(store: Store) -> int:
    """Expire every open session past ``expires_at`` (one event each); return how many expired.

    The background sweep and every read go through here or :func:`session_get`, under
    ``store.lock``, so a session expires, and reports ``checkout.session.expired``, exactly once.
    """
    with store.lock:
        due = [s for s in store.sessions.values() if s["status"] == "open"]
        before = len(store.events)
        for s in due:
            _expire_if_due(store, s)
        return len(store.events) - before


def _expire(store: Store, session: Obj) -> None:
    session["status"] = "expired"
    event_emit(store, "checkout.session.expired", session)


def session_retrieve(store: Store, sid: str, params: Obj) -> Obj:
    """GET /v1/checkout/sessions/{id}."""
    with store.lock:
        return session_render(store, session_get(store, sid), params.get("expand"))


def session_list(store: Store, params: Obj) -> Obj:
    """GET /v1/checkout/sessions (newest first)."""
    with store.lock:
        sessions_expire_due(store)
        sessions = list(reversed(store.sessions.values()))
        if params.get("payment_intent"):
            sessions = [s for s in sessions if s["payment_intent"] == params["payment_intent"]]
        if params.get("status"):
            if params["status"] not in ("open", "complete", "expired"):
                raise invalid(f"Invalid status: {params['status']}", "status")
            sessions = [s for s in sessions if s["status"] == params["status"]]
        if params.get("customer_details") and isinstance(params["customer_details"], dict):
            email = params["customer_details"].get("email")
            sessions = [s for s in sessions if s["customer_email"] == email]
        listed = list_obj("/v1/checkout/sessions", [copy.deepcopy(s) for s in sessions], params)
        expand = params.get("expand")
        if expand:
            prefixed = [e[len("data.") :] for e in expand if str(e).startswith("data.")]
            listed["data"] = [session_render(store, s, prefixed) for s in listed["data"]]
        return listed


def session_line_items(store: Store, sid: str, params: Obj) -> Obj:
    """GET /v1/checkout/sessions/{id}/line_items."""
    with store.lock:
        session_get(store, sid)
        return list_obj(
            f"/v1/checkout/sessions/{sid}/line_items",
            copy.deepcopy(store.line_items[sid]),
            params,
        )


def session_expire(store: Store, sid: str, params: Obj) -> Obj:
    """POST /v1/checkout/sessions/{id}/expire."""
    with store.lock:
        session = session_get(store, sid)
        if session["status"] != "open":
            raise invalid(
                f'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
                None,
            )
        _expire(store, session)
        return session_render(store, session, params.get("expand"))
