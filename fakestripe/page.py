"""The hosted checkout page at ``/pay/{id}``: lines and totals, then what the session collects
(shipping address, shipping method, promotion code), a card field, a Pay button and the test cards.

Styled like a real checkout page with inline CSS only: the page makes no external request.
Paying posts the same fields as the ``pay`` control (``payments.session_pay``); a refused card or
choice shows the page again with Stripe's message and the values entered.
"""

from __future__ import annotations

import html
from typing import Any

from fakestripe import forms
from fakestripe.errors import StripeError
from fakestripe.payments import (
    CARD_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_REFUND_FAILS,
    CARD_REFUND_PENDING,
    CARD_SUCCESS,
    FAKE_ASYNC_CARD,
    session_pay,
)
from fakestripe.sessions import session_retrieve
from fakestripe.shipping import ADDRESS_FIELDS, TAX_RATE_PERCENT
from fakestripe.store import Obj, Store

HTML = "text/html; charset=utf-8"

# (status, body, content type, extra headers)
PageAnswer = tuple[int, bytes, str, dict[str, str]]

TEST_CARDS = (
    (CARD_SUCCESS, "pays at once"),
    (CARD_DECLINE, "declined (generic_decline)"),
    (CARD_INSUFFICIENT_FUNDS, "declined (insufficient_funds)"),
    (FAKE_ASYNC_CARD, "delayed payment, settled later by the settle control (fakestripe only)"),
    (CARD_REFUND_PENDING, "pays; its refunds stay pending until settled"),
    (CARD_REFUND_FAILS, "pays; its refunds succeed, then can fail"),
)
ADDRESS_LABELS = {
    "name": "Full name",
    "line1": "Address line 1",
    "line2": "Address line 2 (optional)",
    "city": "City",
    "state": "State / region",
    "postal_code": "Postal code",
    "country": "Country",
}

CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1a1f36;background:#f6f9fc}
.wrap{display:flex;flex-wrap:wrap;max-width:960px;margin:0 auto;min-height:100vh}
.summary{flex:1 1 380px;padding:48px 40px;background:#fff;border-right:1px solid #e3e8ee}
.pay{flex:1 1 420px;padding:48px 40px}
h1{font-size:15px;font-weight:600;color:#697386;margin:0 0 4px}
.amount-due{font-size:36px;font-weight:700;margin:0 0 24px}
table{width:100%;border-collapse:collapse}
td{padding:8px 0;vertical-align:top}
td.amount,td.total{text-align:right;white-space:nowrap}
tr.line td{border-bottom:1px solid #f0f2f5}
tr.sum td{color:#697386}
tr.grand td{font-weight:700;border-top:1px solid #e3e8ee;padding-top:12px}
.qty{color:#697386;font-size:13px}
fieldset{border:0;margin:0 0 20px;padding:0}
legend{font-weight:600;margin-bottom:8px}
label{display:block;font-size:13px;color:#3c4257;margin:10px 0 4px}
input[type=text],select{width:100%;padding:10px 12px;border:1px solid #d5dbe1;border-radius:6px;
font-size:15px;background:#fff}
input[type=text]:focus,select:focus{outline:none;border-color:#635bff;box-shadow:0 0 0 3px #635bff33}
.option{display:flex;justify-content:space-between;align-items:center;border:1px solid #d5dbe1;
border-radius:6px;padding:10px 12px;margin:6px 0;cursor:pointer}
.option input{margin-right:10px}
.option span.est{color:#697386;font-size:13px;display:block}
button{width:100%;padding:12px;border:0;border-radius:6px;background:#635bff;color:#fff;
font-size:16px;font-weight:600;cursor:pointer;margin-top:8px}
button:hover{background:#5046e5}
.error{background:#fdecea;color:#b42318;border-radius:6px;padding:10px 12px;margin:0 0 16px}
.note{color:#697386;font-size:12px}
.cards{margin-top:28px;font-size:13px;color:#3c4257}
.cards code{font-family:SFMono-Regular,Menlo,Consolas,monospace;background:#eef0f4;padding:1px 5px;
border-radius:4px}
.cancel{display:inline-block;margin-top:16px;color:#635bff;text-decoration:none}
.badge{display:inline-block;background:#ffde92;color:#5d4000;font-size:11px;font-weight:700;
border-radius:4px;padding:1px 6px;margin-left:6px;vertical-align:middle}
.notice{max-width:480px;margin:80px auto;background:#fff;border-radius:8px;padding:32px;
box-shadow:0 2px 8px #1a1f3614}
"""


def _fmt(amount: int, currency: str | None) -> str:
    return f"{amount / 100:.2f} {(currency or '').upper()}"


def _html(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)} - fakestripe</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def _notice(title: str, text: str) -> str:
    return _html(title, f"<div class='notice'><h1>{html.escape(title)}</h1><p>{text}</p></div>")


def _summary(store: Store, session: Obj, lines: list[Obj]) -> str:
    esc, cur = html.escape, session["currency"]
    rows = "".join(
        f"<tr class='line'><td class='name'>{esc(li['description'])}"
        f"<div class='qty'>Qty {li['quantity']}</div></td>"
        f"<td class='amount'>{_fmt(li['amount_total'], li['currency'])}</td></tr>"
        for li in lines
    )
    totals = session.get("total_details") or {}
    sums = [("Subtotal", session["amount_subtotal"])]
    if session.get("shipping_options"):
        sums.append(("Shipping", totals.get("amount_shipping") or 0))
    if totals.get("amount_discount"):
        sums.append(("Discount", -totals["amount_discount"]))
    if (session.get("automatic_tax") or {}).get("enabled"):
        sums.append(
            (
                f"Tax ({TAX_RATE_PERCENT} %, fakestripe test rate; after the address)",
                totals.get("amount_tax") or 0,
            )
        )
    rows += "".join(
        f"<tr class='sum'><td>{esc(label)}</td><td class='amount'>{_fmt(v, cur)}</td></tr>"
        for label, v in sums
    )
    total = _fmt(session["amount_total"], cur)
    rows += f"<tr class='grand'><td>Total due</td><td class='total'>{total}</td></tr>"
    return (
        f"<div class='summary'><h1>Pay fakestripe test merchant<span class='badge'>TEST MODE</span></h1>"
        f"<p class='amount-due'>{_fmt(session['amount_total'], cur)}</p><table>{rows}</table></div>"
    )


def _address_fields(session: Obj, values: dict[str, Any]) -> str:
    collection = session.get("shipping_address_collection")
    if not collection:
        return ""
    esc, out = html.escape, []
    for field in ADDRESS_FIELDS:
        value = esc(str(values.get(field) or ""))
        if field == "country":
            options = "".join(
                f"<option value='{c}'{' selected' if values.get('country') == c else ''}>{c}</option>"
                for c in collection["allowed_countries"]
            )
            out.append(
                f"<label for='country'>{ADDRESS_LABELS[field]}</label>"
                f"<select id='country' name='country'>{options}</select>"
            )
        else:
            out.append(
                f"<label for='{field}'>{ADDRESS_LABELS[field]}</label>"
                f"<input type='text' id='{field}' name='{field}' value='{value}' "
                f"autocomplete='shipping {field}'>"
            )
    return f"<fieldset><legend>Shipping address</legend>{''.join(out)}</fieldset>"


def _shipping_fields(store: Store, session: Obj, values: dict[str, Any]) -> str:
    options = session.get("shipping_options") or []
    if not options:
        return ""
    chosen = values.get("shipping_rate") or (session.get("shipping_cost") or {}).get("shipping_rate")
    out = []
    for option in options:
        rate = store.shipping_rates.get(option["shipping_rate"], {})
        estimate = rate.get("delivery_estimate") or {}
        days = [str((estimate.get(b) or {}).get("value")) for b in ("minimum", "maximum") if estimate.get(b)]
        est = f"<span class='est'>{'–'.join(days)} business days</span>" if days else ""
        checked = " checked" if option["shipping_rate"] == chosen else ""
        out.append(
            f"<label class='option'><span><input type='radio' name='shipping_rate' "
            f"value='{html.escape(option['shipping_rate'])}'{checked}>"
            f"{html.escape(str(rate.get('display_name') or option['shipping_rate']))}{est}</span>"
            f"<span>{_fmt(option['shipping_amount'], session['currency'])}</span></label>"
        )
    return f"<fieldset><legend>Shipping method</legend>{''.join(out)}</fieldset>"


def _cards() -> str:
    rows = "".join(f"<li><code>{number}</code> {html.escape(what)}</li>" for number, what in TEST_CARDS)
    return (
        f"<div class='cards'><b>Test cards</b><ul>{rows}</ul>"
        "<p class='note'>Any other number is refused as incorrect.</p></div>"
    )


def render_page(
    store: Store, sid: str, message: str | None = None, values: dict[str, Any] | None = None
) -> tuple[int, str]:
    """HTML for the hosted checkout page of session ``sid`` (``values``: the fields as entered)."""
    values = values or {}
    with store.lock:
        try:
            session = session_retrieve(store, sid, {})
        except StripeError:
            return 404, _notice("Not found", "No such Checkout Session.")
        if session["status"] == "expired":
            return 200, _notice("Expired", "This Checkout Session has expired.")
        if session["status"] == "complete":
            return 200, _notice("Complete", "This Checkout Session is already complete.")
        esc = html.escape
        error = f"<p class='error' role='alert'>{esc(message)}</p>" if message else ""
        cancel = (
            f"<a class='cancel' href='{esc(session['cancel_url'])}'>← Cancel and go back</a>"
            if session.get("cancel_url")
            else ""
        )
        code = (
            "<fieldset><legend>Promotion code</legend><input type='text' name='promotion_code' "
            f"value='{esc(str(values.get('promotion_code') or ''))}' "
            "placeholder='Add promotion code'></fieldset>"
            if session.get("allow_promotion_codes")
            else ""
        )
        email = (
            f"<p class='note'>Receipt to {esc(session['customer_email'])}</p>"
            if session.get("customer_email")
            else ""
        )
        body = (
            f"<div class='wrap'>{_summary(store, session, store.line_items.get(sid, []))}"
            f"<div class='pay'>{error}{email}<form method='post' action='/pay/{esc(sid)}'>"
            f"{_address_fields(session, values)}{_shipping_fields(store, session, values)}{code}"
            "<fieldset><legend>Card</legend><label for='card'>Card number</label>"
            "<input type='text' id='card' name='card' value='' autocomplete='off' inputmode='numeric' "
            f"placeholder='4242 4242 4242 4242'></fieldset><button type='submit'>Pay "
            f"{_fmt(session['amount_total'], session['currency'])}</button></form>"
            f"{cancel}{_cards()}</div></div>"
        )
        return 200, _html("Checkout", body)


def page_answer(store: Store, method: str, sid: str, raw: bytes) -> PageAnswer:
    """GET shows the page; POST pays with ``card`` (and the address, ``shipping_rate`` and
    ``promotion_code`` when the session asks for them) and redirects to ``success_url`` (303).

    A declined card or a refused choice shows the page again with Stripe's message.
    """
    if method == "POST":
        fields = forms.parse(raw.decode("utf-8", "replace"))
        try:
            session = session_pay(store, sid, str(fields.get("card", "")), fields)
        except StripeError as err:
            status, page = render_page(store, sid, None if err.status == 404 else err.message, fields)
            return status, page.encode(), HTML, {}
        target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)
        return 303, b"", "text/plain", {"Location": target}
    status, page = render_page(store, sid)
    return status, page.encode(), HTML, {}
