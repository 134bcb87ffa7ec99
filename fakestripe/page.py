"""The hosted checkout page at ``/pay/{id}``: lines, total, a card field and a Pay button."""

from __future__ import annotations

import html

from fakestripe import forms
from fakestripe.errors import StripeError
from fakestripe.payments import session_pay
from fakestripe.sessions import session_retrieve
from fakestripe.store import Store

HTML = "text/html; charset=utf-8"

# (status, body, content type, extra headers)
PageAnswer = tuple[int, bytes, str, dict[str, str]]


def _fmt(amount: int, currency: str | None) -> str:
    return f"{amount / 100:.2f} {(currency or '').upper()}"


def _html(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title} - fakestripe"
        f"</title></head><body><h1>{title}</h1>{body}</body></html>"
    )


def render_page(store: Store, sid: str, message: str | None = None) -> tuple[int, str]:
    """HTML for the hosted checkout page of session ``sid``."""
    with store.lock:
        try:
            session = session_retrieve(store, sid, {})
        except StripeError:
            return 404, _html("Not found", "<p>No such Checkout Session.</p>")
        lines = store.line_items.get(sid, [])
        esc = html.escape
        if session["status"] == "expired":
            return 200, _html("Expired", "<p>This Checkout Session has expired.</p>")
        if session["status"] == "complete":
            return 200, _html("Complete", "<p>This Checkout Session is already complete.</p>")
        rows = "".join(
            f"<tr><td class='name'>{esc(li['description'])}</td>"
            f"<td class='qty'>{li['quantity']}</td>"
            f"<td class='amount'>{_fmt(li['amount_total'], li['currency'])}</td></tr>"
            for li in lines
        )
        error = f"<p class='error' role='alert'>{esc(message)}</p>" if message else ""
        cancel = (
            f"<p><a class='cancel' href='{esc(session['cancel_url'])}'>Cancel</a></p>"
            if session.get("cancel_url")
            else ""
        )
        body = (
            f"{error}<table><tr><th>Item</th><th>Qty</th><th>Amount</th></tr>{rows}"
            f"<tr><td colspan='2'><b>Total</b></td>"
            f"<td class='total'><b>{_fmt(session['amount_total'], session['currency'])}</b>"
            f"</td></tr></table>"
            f"<form method='post' action='/pay/{esc(sid)}'>"
            f"<label>Card number <input name='card' value='' autocomplete='off'></label>"
            f"<button type='submit'>Pay</button></form>{cancel}"
        )
        return 200, _html("Checkout", body)


def page_answer(store: Store, method: str, sid: str, raw: bytes) -> PageAnswer:
    """GET shows the page; POST pays with ``card`` and redirects to ``success_url`` (303).

    A declined card shows the page again with Stripe's message.
    """
    if method == "POST":
        card = str(forms.parse(raw.decode("utf-8", "replace")).get("card", ""))
        try:
            session = session_pay(store, sid, card)
        except StripeError as err:
            status, page = render_page(store, sid, None if err.status == 404 else err.message)
            return status, page.encode(), HTML, {}
        target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)
        return 303, b"", "text/plain", {"Location": target}
    status, page = render_page(store, sid)
    return status, page.encode(), HTML, {}
