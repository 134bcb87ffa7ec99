"""Shipping, promotion codes and tax on Checkout Sessions, and the amounts they add up to.

- ``shipping_address_collection[allowed_countries]`` makes paying require an address from those
  countries; it lands on the session as ``collected_information.shipping_details``.
- ``shipping_options[n][shipping_rate_data]`` creates a ShippingRate (``shr_…``, readable over
  ``GET /v1/shipping_rates/{id}`` and as ``expand[]=shipping_cost.shipping_rate``);
  ``shipping_options[n][shipping_rate]`` reuses one. The first option is selected until the buyer
  picks another (as on Stripe's page), so an open session's total already includes it.
- ``allow_promotion_codes``: the buyer may enter a code made with the ``/_fake/promotion_codes``
  control (percent or amount off the line items, never below zero; shipping is not discounted).
- ``automatic_tax[enabled]``: **fakestripe only**, a fixed ``TAX_RATE_PERCENT`` of (items −
  discount + shipping), rounded half up, computed once an address is known (Stripe Tax depends on
  the address and the account's registrations); ``automatic_tax.status`` goes from
  ``requires_location_inputs`` to ``complete``.

``amount_total = amount_subtotal − amount_discount + amount_shipping + amount_tax``; the parts are
in ``total_details``. Line items keep their own amounts (no per-line discount or tax breakdown).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fakestripe.errors import invalid, missing_param, no_such
from fakestripe.params import int_param, metadata
from fakestripe.store import Obj, Store, lookup, new_id

TAX_RATE_PERCENT = 5
MAX_SHIPPING_OPTIONS = 5  # Stripe Checkout's limit
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "postal_code", "country")
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DELIVERY_UNITS = ("business_day", "day", "hour", "month", "week")


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _countries(raw: Any) -> list[str]:
    param = "shipping_address_collection[allowed_countries]"
    if not isinstance(raw, dict) or not raw.get("allowed_countries"):
        raise missing_param(param)
    codes = raw["allowed_countries"]
    if not isinstance(codes, list) or not all(isinstance(c, str) and _COUNTRY.match(c) for c in codes):
        raise invalid("Invalid array: expected two-letter country codes", param)
    return list(codes)


def _estimate(raw: Any, param: str) -> Obj | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, dict):
        raise invalid("Invalid object", param)
    out: Obj = {"maximum": None, "minimum": None}
    for bound in ("minimum", "maximum"):
        part = raw.get(bound)
        if part in (None, ""):
            continue
        if not isinstance(part, dict) or part.get("unit") not in _DELIVERY_UNITS:
            raise invalid(
                f"Invalid {bound}: unit must be one of {', '.join(_DELIVERY_UNITS)}", f"{param}[{bound}]"
            )
        out[bound] = {"unit": part["unit"], "value": int_param(part.get("value"), f"{param}[{bound}][value]")}
    return out


def _rate_create(store: Store, raw: Obj, param: str, currency: str, now: int) -> Obj:
    """A ShippingRate from ``shipping_rate_data`` (type ``fixed_amount`` only)."""
    if raw.get("type", "fixed_amount") != "fixed_amount":
        raise invalid("fakestripe only supports type=fixed_amount.", f"{param}[type]")
    if not raw.get("display_name"):
        raise missing_param(f"{param}[display_name]")
    fixed = raw.get("fixed_amount")
    if not isinstance(fixed, dict) or fixed.get("amount") in (None, ""):
        raise missing_param(f"{param}[fixed_amount][amount]")
    amount = int_param(fixed["amount"], f"{param}[fixed_amount][amount]")
    if amount < 0:
        raise invalid("This value must be greater than or equal to 0.", f"{param}[fixed_amount][amount]")
    if str(fixed.get("currency") or "").lower() != currency:
        raise invalid(
            f"The shipping rate's currency must be the session's ({currency}).",
            f"{param}[fixed_amount][currency]",
        )
    rate: Obj = {
        "id": new_id("shr_"),
        "object": "shipping_rate",
        "active": True,
        "created": now,
        "delivery_estimate": _estimate(raw.get("delivery_estimate"), f"{param}[delivery_estimate]"),
        "display_name": str(raw["display_name"]),
        "fixed_amount": {"amount": amount, "currency": currency},
        "livemode": False,
        "metadata": metadata(raw.get("metadata"), f"{param}[metadata]"),
        "tax_behavior": "unspecified",
        "tax_code": None,
        "type": "fixed_amount",
    }
    store.shipping_rates[rate["id"]] = rate
    return rate


def _options(store: Store, raw: Any, currency: str, now: int) -> list[Obj]:
    if not isinstance(raw, list):
        raise invalid("Invalid array", "shipping_options")
    if len(raw) > MAX_SHIPPING_OPTIONS:
        raise invalid(
            f"You may only specify up to {MAX_SHIPPING_OPTIONS} shipping options.", "shipping_options"
        )
    options = []
    for i, option in enumerate(raw):
        param = f"shipping_options[{i}]"
        if not isinstance(option, dict):
            raise invalid("Invalid object", param)
        if option.get("shipping_rate"):
            rate = lookup(
                store.shipping_rates, "shipping_rate", str(option["shipping_rate"]), f"{param}[shipping_rate]"
            )
        elif isinstance(option.get("shipping_rate_data"), dict):
            rate = _rate_create(
                store, option["shipping_rate_data"], f"{param}[shipping_rate_data]", currency, now
            )
        else:
            raise invalid("You must specify either `shipping_rate` or `shipping_rate_data`.", param)
        options.append({"shipping_amount": rate["fixed_amount"]["amount"], "shipping_rate": rate["id"]})
    return options


def session_extras(store: Store, params: Obj, currency: str, now: int) -> Obj:
    """The session fields for shipping, codes and tax from the create parameters."""
    extras: Obj = {}
    if params.get("shipping_address_collection") not in (None, ""):
        extras["shipping_address_collection"] = {
            "allowed_countries": _countries(params["shipping_address_collection"])
        }
    if params.get("shipping_options") not in (None, ""):
        extras["shipping_options"] = _options(store, params["shipping_options"], currency, now)
    if _truthy(params.get("allow_promotion_codes")):
        extras["allow_promotion_codes"] = True
    tax = params.get("automatic_tax")
    if tax not in (None, ""):
        if not isinstance(tax, dict) or tax.get("enabled") in (None, ""):
            raise missing_param("automatic_tax[enabled]")
        if _truthy(tax["enabled"]):
            extras["automatic_tax"] = {
                "enabled": True,
                "liability": {"account": None, "type": "self"},
                "provider": "stripe",
                "status": "requires_location_inputs",
            }
    return extras


def _select_rate(session: Obj, rate_id: str | None) -> None:
    options = session.get("shipping_options") or []
    if not options:
        if rate_id:
            raise invalid("This Checkout Session offers no shipping options.", "shipping_rate")
        return
    chosen = next((o for o in options if o["shipping_rate"] == rate_id), None) if rate_id else options[0]
    if chosen is None:
        raise invalid(f"{rate_id} is not one of this Checkout Session's shipping options.", "shipping_rate")
    amount = chosen["shipping_amount"]
    session["shipping_cost"] = {
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "shipping_rate": chosen["shipping_rate"],
    }


def totals_compute(store: Store, session: Obj) -> None:
    """Recompute ``total_details`` and ``amount_total`` from the session's parts."""
    subtotal = session["amount_subtotal"]
    shipping = (session.get("shipping_cost") or {}).get("amount_total", 0)
    discount = 0
    for entry in session.get("discounts") or []:
        code = store.promotion_codes[entry["promotion_code"]]
        if code["percent_off"] is not None:
            discount += (subtotal * code["percent_off"] + 50) // 100
        else:
            discount += code["amount_off"]
    discount = min(discount, subtotal)
    tax = 0
    automatic = session.get("automatic_tax") or {}
    if automatic.get("enabled") and automatic.get("status") == "complete":
        tax = ((subtotal - discount + shipping) * TAX_RATE_PERCENT + 50) // 100
    session["total_details"] = {"amount_discount": discount, "amount_shipping": shipping, "amount_tax": tax}
    session["amount_total"] = subtotal - discount + shipping + tax


def session_open(store: Store, session: Obj) -> None:
    """A new session: the first shipping option selected, the totals computed."""
    _select_rate(session, None)
    totals_compute(store, session)


def _address(session: Obj, choices: Obj) -> Obj | None:
    collection = session.get("shipping_address_collection")
    if not collection:
        return None
    values = {field: str(choices.get(field) or "").strip() for field in ADDRESS_FIELDS}
    for field in REQUIRED_ADDRESS_FIELDS:
        if not values[field]:
            raise missing_param(field)
    values["country"] = values["country"].upper()
    if values["country"] not in collection["allowed_countries"]:
        raise invalid(f"This Checkout Session does not ship to {values['country']}.", "country")
    return values


def _promotion(store: Store, session: Obj, code: str) -> None:
    if not code:
        return
    if not session.get("allow_promotion_codes"):
        raise invalid("This Checkout Session does not accept promotion codes.", "promotion_code")
    found = next((p for p in store.promotion_codes.values() if p["code"].lower() == code.lower()), None)
    if found is None or found["currency"] not in (None, session["currency"]):
        raise invalid(f"The promotion code {code!r} is invalid.", "promotion_code", "promotion_code_invalid")
    session["discounts"] = [{"coupon": found["coupon"], "promotion_code": found["id"]}]


def choices_apply(store: Store, session: Obj, choices: Obj) -> None:
    """At payment: the buyer's address, shipping rate and promotion code; then the totals.

    Raises (changing nothing) when an address the session collects is missing or outside its
    countries, the rate is not one of its options, or the code is unknown or not accepted.
    """
    address = _address(session, choices)
    work = copy.deepcopy(session)
    _select_rate(work, str(choices.get("shipping_rate") or "") or None)
    _promotion(store, work, str(choices.get("promotion_code") or "").strip())
    if address is not None:
        name = address.pop("name")
        work["collected_information"] = {
            "business_name": None,
            "individual_name": None,
            "shipping_details": {"address": address, "name": name},
        }
        if (work.get("automatic_tax") or {}).get("enabled"):
            work["automatic_tax"]["status"] = "complete"
    totals_compute(store, work)
    session.clear()
    session.update(work)


def promotion_code_create(store: Store, payload: Obj) -> Obj:
    """``POST /_fake/promotion_codes``: ``code`` with ``percent_off`` (1–100) or ``amount_off`` +
    ``currency``. Answers the promotion code."""
    code = str(payload.get("code") or "").strip()
    if not code:
        raise missing_param("code")
    if any(p["code"].lower() == code.lower() for p in store.promotion_codes.values()):
        raise invalid(f"A promotion code {code!r} already exists.", "code")
    percent, amount = payload.get("percent_off"), payload.get("amount_off")
    if (percent in (None, "")) == (amount in (None, "")):
        raise invalid("Give exactly one of percent_off and amount_off.", "percent_off")
    currency = None
    if percent not in (None, ""):
        percent = int_param(percent, "percent_off")
        if not 1 <= percent <= 100:
            raise invalid("percent_off must be between 1 and 100.", "percent_off")
    else:
        amount = int_param(amount, "amount_off")
        if amount < 1:
            raise invalid("amount_off must be at least 1.", "amount_off")
        currency = str(payload.get("currency") or "").lower()
        if len(currency) != 3:
            raise missing_param("currency")
    promo: Obj = {
        "id": new_id("promo_"),
        "object": "promotion_code",
        "code": code,
        "coupon": new_id("co_", 8),
        "percent_off": percent if currency is None else None,
        "amount_off": amount if currency is not None else None,
        "currency": currency,
    }
    store.promotion_codes[promo["id"]] = promo
    return copy.deepcopy(promo)


TAMPERABLE = (
    "amount_total",
    "amount_subtotal",
    "currency",
    "amount_discount",
    "amount_shipping",
    "amount_tax",
)


def session_tamper(store: Store, session: Obj, payload: Obj) -> Obj:
    """``POST /_fake/checkout/sessions/{id}/tamper``: overwrite amounts or the currency, now and
    after payment (for tests of a provider that reports what the order does not expect)."""
    changes = {key: payload[key] for key in TAMPERABLE if key in payload}
    if not changes:
        raise invalid(f"Give at least one of {', '.join(TAMPERABLE)}.", None)
    for key, value in changes.items():
        if key != "currency":
            changes[key] = int_param(value, key)
    store.session_private.setdefault(session["id"], {})["tamper"] = changes
    tamper_apply(store, session)
    return session


def tamper_apply(store: Store, session: Obj) -> None:
    for key, value in (store.session_private.get(session["id"], {}).get("tamper") or {}).items():
        if key.startswith("amount_") and key not in ("amount_total", "amount_subtotal"):
            session["total_details"][key] = value
        else:
            session[key] = value


def shipping_rate_retrieve(store: Store, rate_id: str, params: Obj) -> Obj:
    """GET /v1/shipping_rates/{id}."""
    with store.lock:
        return copy.deepcopy(lookup(store.shipping_rates, "shipping_rate", rate_id))


def rate_expanded(store: Store, rate_id: str) -> Obj:
    rate = store.shipping_rates.get(rate_id)
    if rate is None:
        raise no_such("shipping_rate", rate_id, "expand")
    return copy.deepcopy(rate)
