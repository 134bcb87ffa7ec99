"""The scenarios of `make stripe-smoke` (scripts/stripe_smoke.py) and the two targets they run on.

Every scenario calls the project's own `payments.stripe.api` functions, with Django's settings
pointed at one target (`STRIPE_SECRET_KEY` / `STRIPE_API_BASE` overridden for the call), and
returns *facts*: a flat dict of normalised values (statuses, amounts, error class, Stripe's error
type/code/HTTP status) that can be compared between real Stripe and fakestripe. Ids never appear
in facts, only whether two ids agree. Keys listed in `INFO_KEYS` are shown but not compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import requests
import stripe
from django.test import override_settings

from payments.interface import LineItem
from payments.stripe import api
from payments.stripe.parsing import StripeSession

Facts = dict[str, object]
# Differs by design (checkout.stripe.com vs fakestripe's own address): shown, never compared.
INFO_KEYS = frozenset({"url_host"})

AMOUNT = 50_000  # minor units: well above every currency's minimum charge (₹500, $500 …)
REFUND_AMOUNT = 12_500  # a partial refund of AMOUNT
TOO_SMALL_AMOUNT = 1
TOO_MANY_LINES = 101
FAKE_CARD = "4242424242424242"


@dataclass(frozen=True)
class Target:
    """Where the scenarios run: the key and API base the project's settings get, and how to pay."""

    name: str
    api_key: str
    api_base: str  # "" = the SDK's default, i.e. real Stripe
    currency: str
    page_hosts: frozenset[str]  # hosts of the hosted payment page (`session.url`)
    # Make a succeeded test payment of `amount`; returns its PaymentIntent id.
    pay: Callable[[Target, int], str]

    @contextmanager
    def active(self) -> Iterator[None]:
        """Django settings pointed at this target (api.py caches one client per key and base)."""
        with override_settings(STRIPE_SECRET_KEY=self.api_key, STRIPE_API_BASE=self.api_base):
            yield


# ------------------------------------------------------------------------------------ helpers
def _key(label: str) -> str:
    return f"stripe-smoke-{label}-{uuid.uuid4().hex}"


def _lines(count: int = 1, unit_amount: int = AMOUNT) -> list[LineItem]:
    return [
        LineItem(name=f"Smoke test item {n + 1}", unit_amount=unit_amount, quantity=1) for n in range(count)
    ]


def create_session(
    target: Target,
    *,
    lines: list[LineItem] | None = None,
    idempotency_key: str | None = None,
    order_id: str | None = None,
    expires_at: datetime | None = None,
) -> StripeSession:
    """`api.checkout_session_create` as checkout does it: one order, expires in an hour."""
    order_id = order_id or f"smoke-{uuid.uuid4().hex[:12]}"
    expires_at = expires_at or datetime.now(UTC) + timedelta(hours=1)
    with target.active():
        return api.checkout_session_create(
            order_id=order_id,
            order_number=f"SMOKE-{order_id[-6:].upper()}",
            line_items=lines if lines is not None else _lines(),
            currency=target.currency,
            customer_email="smoke-test@example.com",
            expires_at=expires_at,
            idempotency_key=idempotency_key or _key("create"),
        )


def stripe_cause(exc: BaseException) -> stripe.StripeError | None:
    """The SDK error behind one of ours (api.py raises ours `from` the SDK's)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, stripe.StripeError):
            return seen
        seen = seen.__cause__
    return None


def error_facts(exc: Exception) -> Facts:
    """What an error is, without ids or wording: our class, then Stripe's status, type and code."""
    facts: Facts = {"raised": type(exc).__name__}
    cause = stripe_cause(exc)
    if cause is not None:
        facts["http_status"] = cause.http_status
        facts["error_type"] = cause.error.type if cause.error is not None else None
        facts["code"] = cause.code
    return facts


def session_facts(session: StripeSession) -> Facts:
    return {
        "status": session.status,
        "payment_status": session.payment_status,
        "amount_total": session.amount_total,
        "currency": session.currency,
    }


def _attempt(call: Callable[[], Facts]) -> Facts:
    """The call's facts, or the facts of the error it raised (a scenario never raises)."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - an error *is* the answer being compared
        return error_facts(exc)


# ---------------------------------------------------------------------------------- scenarios
def scenario_create(target: Target) -> Facts:
    """1. Create a Checkout Session: mode payment, one line."""

    def run() -> Facts:
        session = create_session(target)
        host = urlparse(session.url).hostname if session.url else None
        return {
            **session_facts(session),
            "url": "hosted page" if host in target.page_hosts else f"unexpected host {host}",
            "url_host": host,
        }

    return _attempt(run)


def scenario_retrieve(target: Target) -> Facts:
    """2. Retrieve it (api.py always expands `payment_intent`)."""

    def run() -> Facts:
        created = create_session(target)
        with target.active():
            got = api.checkout_session_retrieve(session_id=created.id)
        facts = session_facts(got)
        facts["same_id"] = got.id == created.id
        facts["order_ref_kept"] = got.order_id == created.order_id and got.order_id is not None
        facts["payment_intent"] = got.payment_intent_status or ("id only" if got.payment_intent_id else None)
        return facts

    return _attempt(run)


def scenario_idempotent_replay(target: Target) -> Facts:
    """3. The same create again with the same idempotency key → the same session."""

    def run() -> Facts:
        # The very same parameters (expires_at included), as a retried request sends them.
        key, order_id = _key("replay"), f"smoke-{uuid.uuid4().hex[:12]}"
        expires_at = datetime.now(UTC) + timedelta(hours=1)
        first = create_session(target, idempotency_key=key, order_id=order_id, expires_at=expires_at)
        again = create_session(target, idempotency_key=key, order_id=order_id, expires_at=expires_at)
        return {"same_session": first.id == again.id, "status": again.status}

    return _attempt(run)


def scenario_idempotency_conflict(target: Target) -> Facts:
    """4. The same idempotency key with different parameters → Stripe refuses."""

    def run() -> Facts:
        key = _key("conflict")
        create_session(target, idempotency_key=key)
        other = create_session(target, idempotency_key=key, lines=_lines(unit_amount=AMOUNT + 100))
        return {"accepted": True, "status": other.status}

    return _attempt(run)


def scenario_expire(target: Target) -> Facts:
    """5. Expire an open session."""

    def run() -> Facts:
        created = create_session(target)
        with target.active():
            expired = api.checkout_session_expire(session_id=created.id)
        return {"status": expired.status, "payment_status": expired.payment_status}

    return _attempt(run)


def scenario_expire_again(target: Target) -> Facts:
    """6. Expire it again → the 400 the gateway reads as `SessionNotOpen`."""

    def run() -> Facts:
        created = create_session(target)
        with target.active():
            api.checkout_session_expire(session_id=created.id)
            again = api.checkout_session_expire(session_id=created.id)
        return {"accepted": True, "status": again.status}

    return _attempt(run)


def scenario_amount_too_small(target: Target) -> Facts:
    """7. A total of one minor unit (below every minimum charge)."""
    lines = _lines(unit_amount=TOO_SMALL_AMOUNT)
    return _attempt(lambda: {"accepted": True, **session_facts(create_session(target, lines=lines))})


def scenario_too_many_lines(target: Target) -> Facts:
    """8. 101 line items (Checkout allows 100)."""

    lines = _lines(TOO_MANY_LINES, unit_amount=100)
    return _attempt(lambda: {"accepted": True, **session_facts(create_session(target, lines=lines))})


def scenario_partial_refund(target: Target) -> Facts:
    """9. A partial refund of a succeeded test payment."""

    def run() -> Facts:
        payment_intent_id = target.pay(target, AMOUNT)
        with target.active():
            refund = api.refund_create(
                payment_intent_id=payment_intent_id,
                amount=REFUND_AMOUNT,
                idempotency_key=_key("refund"),
                metadata={"smoke": "true"},
            )
        return {
            "status": refund.status,
            "amount": refund.amount,
            "currency": refund.currency,
            "same_payment": refund.payment_intent_id == payment_intent_id,
        }

    return _attempt(run)


SCENARIOS: list[tuple[str, Callable[[Target], Facts]]] = [
    ("1 create session", scenario_create),
    ("2 retrieve (expand payment_intent)", scenario_retrieve),
    ("3 replay, same idempotency key", scenario_idempotent_replay),
    ("4 same key, other params", scenario_idempotency_conflict),
    ("5 expire open session", scenario_expire),
    ("6 expire again", scenario_expire_again),
    ("7 amount of 1 minor unit", scenario_amount_too_small),
    ("8 101 line items", scenario_too_many_lines),
    ("9 partial refund", scenario_partial_refund),
]


# ------------------------------------------------------------------------------------ targets
def _pay_with_payment_intent(target: Target, amount: int) -> str:
    """Real Stripe: a PaymentIntent confirmed with the test card `pm_card_visa` (setup only)."""
    client = stripe.StripeClient(target.api_key, max_network_retries=1)
    intent = client.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": target.currency,
            "payment_method": "pm_card_visa",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "confirm": True,
            "description": "shopapi stripe-smoke",
        },
        {"idempotency_key": _key("pi")},
    )
    if intent.status != "succeeded":
        raise RuntimeError(f"test PaymentIntent is {intent.status}, not succeeded")
    return intent.id


def _pay_on_fakestripe(target: Target, amount: int) -> str:
    """fakestripe: a session paid with 4242… through its `/_fake/checkout/sessions/{id}/pay` control."""
    session = create_session(target, lines=_lines(unit_amount=amount))
    paid = requests.post(
        f"{target.api_base}/_fake/checkout/sessions/{session.id}/pay", data={"card": FAKE_CARD}, timeout=30
    )
    paid.raise_for_status()
    with target.active():
        payment_intent_id = api.checkout_session_retrieve(session_id=session.id).payment_intent_id
    if not payment_intent_id:
        raise RuntimeError("fakestripe's paid session has no payment intent")
    return payment_intent_id


def stripe_target(api_key: str, currency: str) -> Target:
    return Target(
        "Stripe", api_key, "", currency, frozenset({"checkout.stripe.com"}), _pay_with_payment_intent
    )


def fakestripe_target(base_url: str, currency: str, api_key: str = "sk_test_stripe_smoke") -> Target:
    host = urlparse(base_url).hostname or ""
    return Target(
        "fakestripe", api_key, base_url.rstrip("/"), currency, frozenset({host}), _pay_on_fakestripe
    )


def compared(facts: Facts) -> Facts:
    """The facts that must agree (everything but `INFO_KEYS`)."""
    return {key: value for key, value in facts.items() if key not in INFO_KEYS}


def describe(facts: Facts) -> str:
    """`key=value …` in the facts' order, for one table cell."""
    return " ".join(f"{key}={value}" for key, value in facts.items())
