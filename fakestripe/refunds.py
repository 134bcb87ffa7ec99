"""Refunds: ``POST /v1/refunds`` (whole or partial, by PaymentIntent or Charge), retrieve, settle.

Lifecycle (https://docs.stripe.com/testing#refunds, https://docs.stripe.com/api/refunds/object):
refunds of a charge paid with 4000000000007726 start ``pending`` (``pending_reason:
processing``); with 4000000000005126 they start ``succeeded`` and may later fail; all others
succeed for good. ``POST /_fake/refunds/{id}/settle`` finishes them (:func:`refund_settle`).

Events (API versions since 2024-10-28.acacia send refund events for every refund):
``refund.created`` and ``charge.refunded`` at creation; ``refund.updated`` on every later status
change, plus ``refund.failed`` when it fails. A pending or succeeded refund counts in the charge's
``amount_refunded``; a failed one is taken back out of it.
"""

from __future__ import annotations

import copy

from fakestripe.errors import invalid, no_such
from fakestripe.events import event_emit
from fakestripe.params import check_unknown, int_param, list_obj, metadata
from fakestripe.shapes import refund_defaults
from fakestripe.store import Obj, Store, lookup, new_id

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
# Refund.failure_reason values Stripe documents.
FAILURE_REASONS = (
    "charge_for_pending_refund_disputed",
    "declined",
    "expired_or_canceled_card",
    "insufficient_funds",
    "lost_or_stolen_card",
    "merchant_request",
    "unknown",
)
CARD_REFUND_PENDING = "4000000000007726"
CARD_REFUND_FAILS = "4000000000005126"


def _refunded_payment(store: Store, params: Obj) -> tuple[Obj, Obj]:
    """The (PaymentIntent, Charge) named by ``payment_intent`` or ``charge``."""
    if params.get("payment_intent"):
        pi = lookup(store.payment_intents, "payment_intent", str(params["payment_intent"]), "payment_intent")
        return pi, store.charges[pi["latest_charge"]]
    if params.get("charge"):
        charge = lookup(store.charges, "charge", str(params["charge"]), "charge")
        return store.payment_intents[charge["payment_intent"]], charge
    raise invalid(
        "One of the following params should be provided for this request: payment_intent or charge.",
        None,
    )


def refund_create(store: Store, params: Obj) -> Obj:
    """POST /v1/refunds."""
    with store.lock:
        check_unknown(params, REFUND_CREATE_PARAMS)
        pi, charge = _refunded_payment(store, params)
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
            amount = int_param(params["amount"], "amount")
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
        card = store.charge_private.get(charge["id"], {}).get("card")
        pending = card == CARD_REFUND_PENDING
        refund: Obj = {
            **refund_defaults(),
            "id": re_id,
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": store.clock.now(),
            "currency": charge["currency"],
            "metadata": metadata(params.get("metadata"), "metadata"),
            "payment_intent": pi["id"],
            "payment_method": pi.get("payment_method"),
            "pending_reason": "processing" if pending else None,
            "reason": reason,
            "status": "pending" if pending else "succeeded",
        }
        store.refunds[re_id] = refund
        _count(charge, amount)
        event_emit(store, "refund.created", refund)
        event_emit(store, "charge.refunded", charge)
        return copy.deepcopy(refund)


def _count(charge: Obj, delta: int) -> None:
    charge["amount_refunded"] += delta
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]


def refund_settle(store: Store, re_id: str, outcome: str, failure_reason: str | None) -> Obj:
    """Finish a refund: ``pending`` → ``succeeded``/``failed``; a 5126 ``succeeded`` one → ``failed``."""
    with store.lock:
        refund = store.refunds.get(re_id)
        if refund is None:
            raise no_such("refund", re_id)
        if outcome not in ("succeeded", "failed"):
            raise invalid("outcome must be 'succeeded' or 'failed'", "outcome")
        reason = failure_reason or "unknown"
        if reason not in FAILURE_REASONS:
            raise invalid(f"failure_reason must be one of {', '.join(FAILURE_REASONS)}", "failure_reason")
        card = store.charge_private.get(str(refund["charge"]), {}).get("card")
        may_fail_later = refund["status"] == "succeeded" and card == CARD_REFUND_FAILS
        if not (refund["status"] == "pending" or (may_fail_later and outcome == "failed")):
            raise invalid(f"Refund {re_id} ({refund['status']}) has nothing left to settle.", None)
        refund["pending_reason"] = None
        if outcome == "succeeded":
            refund["status"] = "succeeded"
            event_emit(store, "refund.updated", refund)
        else:
            refund.update(status="failed", failure_reason=reason, failure_balance_transaction=new_id("txn_"))
            _count(store.charges[refund["charge"]], -int(refund["amount"]))
            event_emit(store, "refund.updated", refund)
            event_emit(store, "refund.failed", refund)
        return copy.deepcopy(refund)


def refund_retrieve(store: Store, re_id: str, params: Obj) -> Obj:
    """GET /v1/refunds/{id}."""
    with store.lock:
        return copy.deepcopy(lookup(store.refunds, "refund", re_id))


def refund_list(store: Store, params: Obj) -> Obj:
    """GET /v1/refunds (newest first), filtered by ``payment_intent`` or ``charge`` as Stripe allows."""
    with store.lock:
        check_unknown(
            params, frozenset(("charge", "payment_intent", "limit", "starting_after", "ending_before"))
        )
        refunds = list(reversed(store.refunds.values()))
        for key in ("payment_intent", "charge"):
            if params.get(key):
                refunds = [refund for refund in refunds if refund[key] == params[key]]
        return copy.deepcopy(list_obj("/v1/refunds", refunds, params))
