"""Paying a Checkout Session with a test card, async settlement, PaymentIntents and Charges.

A payment creates the session's PaymentIntent and its one Charge; both are read-only over /v1.
"""

from __future__ import annotations

import copy

from fakestripe.errors import StripeError, invalid
from fakestripe.events import event_emit
from fakestripe.sessions import session_get, session_render
from fakestripe.shapes import charge_defaults, payment_intent_defaults
from fakestripe.shipping import choices_apply, tamper_apply
from fakestripe.store import Obj, Store, lookup, new_id

CARD_SUCCESS = "4242424242424242"
CARD_DECLINE = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
# fakestripe's own "delayed payment" card, NOT a Stripe behaviour: paying with it completes the
# session ``unpaid`` with its PaymentIntent ``processing`` until the ``settle`` control succeeds
# or fails it (``checkout.session.async_payment_succeeded`` / ``_failed``), which is how Stripe
# Checkout treats delayed-notification payment methods (ACH Direct Debit, SEPA Direct Debit,
# Bacs, BECS, Boleto, OXXO, Konbini, bank transfers; see README "Delayed payments"). Cards never
# behave this way on Stripe: there 4000 0038 0000 0446 is a 3D Secure test card (authentication
# required for on-session payments). The number was kept because it is a Luhn-valid Stripe test
# number that does not simply succeed, and the project's tests and docs already use it; a real
# Stripe run can only reproduce this flow with one of those delayed methods.
FAKE_ASYNC_CARD = "4000003800000446"
# Stripe's refund test cards (https://docs.stripe.com/testing#refunds): the charge succeeds; a
# refund starts ``pending`` then succeeds, or starts ``succeeded`` then fails.
CARD_REFUND_PENDING = "4000000000007726"
CARD_REFUND_FAILS = "4000000000005126"
SUCCESS_CARDS = (CARD_SUCCESS, CARD_REFUND_PENDING, CARD_REFUND_FAILS)


def _check_card(number: str) -> None:
    """Raise the 402 Stripe answers for a declined or unknown test card."""
    if number in (CARD_DECLINE, CARD_INSUFFICIENT_FUNDS):
        decline = "generic_decline" if number == CARD_DECLINE else "insufficient_funds"
        msg = "Your card was declined." if number == CARD_DECLINE else "Your card has insufficient funds."
        raise StripeError(402, "card_error", msg, code="card_declined", decline_code=decline)
    if number not in (*SUCCESS_CARDS, FAKE_ASYNC_CARD):
        raise StripeError(
            402,
            "card_error",
            "Your card number is incorrect.",
            code="incorrect_number",
            param="number",
        )


def session_pay(store: Store, sid: str, card: str, choices: Obj | None = None) -> Obj:
    """Pay an open session with a test card (hosted page and control endpoint).

    ``choices``: the buyer's ``shipping_rate``, ``promotion_code`` and address fields
    (``shipping.ADDRESS_FIELDS``; required when the session collects an address). A card decline
    or a refused choice leaves the session as it was.
    """
    with store.lock:
        session = session_get(store, sid)
        if session["status"] == "complete":
            raise invalid("This Checkout Session has already been completed.", None)
        if session["status"] == "expired":
            raise invalid("This Checkout Session has expired.", None, "checkout_session_expired")
        number = "".join(card.split())
        before = copy.deepcopy(session)
        choices_apply(store, session, choices or {})
        tamper_apply(store, session)
        try:
            _check_card(number)
        except StripeError:
            session.clear()
            session.update(before)
            raise
        settled = number in SUCCESS_CARDS
        now = store.clock.now()
        extra = store.session_private.get(sid, {})
        pi_id = new_id("pi_")
        ch_id = new_id("ch_")
        amount = session["amount_total"]
        store.payment_intents[pi_id] = {
            **payment_intent_defaults(),
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
            "payment_method": new_id("pm_"),
            "payment_method_types": ["card"],
            "status": "succeeded" if settled else "processing",
        }
        store.charge_private[ch_id] = {"card": number}
        store.charges[ch_id] = {
            **charge_defaults(),
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
        event_emit(store, "checkout.session.completed", session)
        return session_render(store, session, None)


def session_settle(store: Store, sid: str, outcome: str) -> Obj:
    """Finish an async (processing) ``FAKE_ASYNC_CARD`` payment: ``succeeded`` or ``failed``."""
    with store.lock:
        session = session_get(store, sid)
        if outcome not in ("succeeded", "failed"):
            raise invalid("outcome must be 'succeeded' or 'failed'", "outcome")
        pi_id = session.get("payment_intent")
        pi = store.payment_intents.get(pi_id) if pi_id else None
        if pi is None or pi["status"] != "processing":
            raise invalid(
                "This Checkout Session has no payment waiting for async settlement.",
                None,
            )
        charge = store.charges[pi["latest_charge"]]
        if outcome == "succeeded":
            pi["status"] = "succeeded"
            pi["amount_received"] = pi["amount"]
            charge.update(status="succeeded", paid=True, captured=True)
            charge["amount_captured"] = charge["amount"]
            session["payment_status"] = "paid"
            event_emit(store, "checkout.session.async_payment_succeeded", session)
        else:
            pi["status"] = "requires_payment_method"
            charge["status"] = "failed"
            event_emit(store, "checkout.session.async_payment_failed", session)
        return session_render(store, session, None)


def payment_intent_retrieve(store: Store, pi_id: str, params: Obj) -> Obj:
    """GET /v1/payment_intents/{id}."""
    with store.lock:
        pi = lookup(store.payment_intents, "payment_intent", pi_id)
        out = copy.deepcopy(pi)
        if "latest_charge" in (params.get("expand") or []):
            out["latest_charge"] = copy.deepcopy(store.charges[pi["latest_charge"]])
        return out


def charge_retrieve(store: Store, ch_id: str, params: Obj) -> Obj:
    """GET /v1/charges/{id}."""
    with store.lock:
        return copy.deepcopy(lookup(store.charges, "charge", ch_id))
