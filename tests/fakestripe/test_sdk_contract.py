"""fakestripe against the pinned SDK's typed classes: every object and error it sends, every
parameter it accepts. A field or parameter fakestripe invents, or one Stripe always sends that
fakestripe forgets, fails here; so does an SDK bump that changes them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
import stripe
from stripe import RequestOptions
from stripe.params import RefundCreateParams
from stripe.params.checkout import SessionCreateParams

from fakestripe.refunds import REFUND_CREATE_PARAMS
from fakestripe.sessions import SESSION_CREATE_PARAMS
from tests.fakestripe.sdk_contract import contract_problems, object_class
from tests.fakestripe.test_api import session_params
from tests.stripe_fixtures import FakeStripeServer

AUTH = {"Authorization": "Bearer sk_test_contract"}
CARD_ASYNC = "4000003800000446"
CARD_REFUND_PENDING = "4000000000007726"


def raw(fake: FakeStripeServer, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """fakestripe's JSON as it goes over the wire (not as the SDK parses it)."""
    response = requests.get(fake.base_url + path, params=params or None, headers=AUTH, timeout=10)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def paid_session(client: stripe.StripeClient, fake: FakeStripeServer, card: str) -> str:
    session = client.v1.checkout.sessions.create(params=session_params())
    assert fake.pay(session.id, card).status_code == 200
    return session.id


def wire_objects(client: stripe.StripeClient, fake: FakeStripeServer) -> list[tuple[str, dict[str, Any]]]:
    """One of everything fakestripe returns: open, paid, async and expired sessions (plain and
    expanded), payment intents, charges, refunds (succeeded and pending), line items."""
    open_id = client.v1.checkout.sessions.create(params=session_params()).id
    expired_id = client.v1.checkout.sessions.create(params=session_params()).id
    client.v1.checkout.sessions.expire(expired_id)
    paid_id = paid_session(client, fake, "4242424242424242")
    async_id = paid_session(client, fake, CARD_ASYNC)
    pending_refund_id = paid_session(client, fake, CARD_REFUND_PENDING)
    objects: list[tuple[str, dict[str, Any]]] = []
    for session_id in (open_id, expired_id, paid_id, async_id):
        objects.append(("session", raw(fake, f"/v1/checkout/sessions/{session_id}")[1]))
        objects.append(
            (
                "session expanded",
                raw(fake, f"/v1/checkout/sessions/{session_id}", **{"expand[]": "payment_intent"})[1],
            )
        )
    objects.append(("line items", raw(fake, f"/v1/checkout/sessions/{paid_id}/line_items")[1]["data"][0]))
    for session_id in (paid_id, pending_refund_id):
        intent_id = raw(fake, f"/v1/checkout/sessions/{session_id}")[1]["payment_intent"]
        refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})
        intent = raw(fake, f"/v1/payment_intents/{intent_id}")[1]
        objects += [
            ("payment intent", intent),
            ("charge", raw(fake, f"/v1/charges/{intent['latest_charge']}")[1]),
            ("refund", raw(fake, f"/v1/refunds/{refund.id}")[1]),
        ]
    objects.append(("session list", raw(fake, "/v1/checkout/sessions", limit=3)[1]["data"][0]))
    return objects


def test_every_object_fakestripe_returns_is_what_the_sdk_types_declare(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    objects = wire_objects(stripe_client, fakestripe)
    problems = {}
    for label, body in objects:
        cls = object_class(body["object"])
        assert cls is not None, (label, body["object"])
        if found := contract_problems(cls, body):
            problems[f"{label} ({body['id']})"] = found
    assert problems == {}


def test_every_event_and_its_object_is_what_the_sdk_types_declare(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given: events of every kind shopapi handles
    wire_objects(stripe_client, fakestripe)
    assert fakestripe.settle(paid_session(stripe_client, fakestripe, CARD_ASYNC), "failed").status_code == 200

    # when
    events = raw(fakestripe, "/v1/events", limit=100)[1]["data"]

    # then
    kinds = {event["type"] for event in events}
    assert {
        "checkout.session.completed",
        "checkout.session.expired",
        "refund.created",
        "charge.refunded",
    } <= kinds
    assert "checkout.session.async_payment_failed" in kinds
    problems = {}
    for event in events:
        found = contract_problems(stripe.Event, event)
        data = event["data"]["object"]
        found += contract_problems(
            object_class(data["object"]) or stripe.StripeObject, data, f"{event['type']}.data"
        )
        if found:
            problems[event["type"]] = found
    assert problems == {}


def test_error_bodies_are_what_the_sdk_types_declare(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    declined = stripe_client.v1.checkout.sessions.create(params=session_params()).id
    errors = [
        raw(fakestripe, "/v1/checkout/sessions/cs_test_missing"),
        raw(fakestripe, "/v1/refunds/re_missing"),
        raw(fakestripe, "/v1/checkout/sessions", limit=1000),
    ]
    card = requests.post(
        f"{fakestripe.base_url}/_fake/checkout/sessions/{declined}/pay",
        data={"card": "4000000000000002"},
        timeout=10,
    )
    bodies = [body for _, body in errors] + [card.json()]
    assert {status for status, _ in errors} == {400, 404}
    assert card.status_code == 402
    assert [contract_problems(stripe.ErrorObject, body["error"]) for body in bodies] == [[]] * len(bodies)


def test_the_checks_catch_a_corrupted_copy(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given: a real session as fakestripe sends it, known to pass
    session_id = paid_session(stripe_client, fakestripe, "4242424242424242")
    good = raw(fakestripe, f"/v1/checkout/sessions/{session_id}", **{"expand[]": "payment_intent"})[1]
    assert contract_problems(stripe.checkout.Session, good) == []
    assert good["ui_mode"] == "hosted_page"  # the current enum's value (was `hosted`)

    def corrupt(change: str) -> dict[str, Any]:
        body = copy.deepcopy(good)
        if change == "invented field":
            body["shipping_rate_override"] = "shr_1"
        elif change == "missing field":
            del body["payment_status"]
        elif change == "unknown literal":
            body["status"] = "paid"
        elif change == "null where none is allowed":
            body["livemode"] = None
        elif change == "nested invented field":
            body["payment_intent"]["risk_score"] = 12
        elif change == "nested object field":
            body["automatic_tax"]["tax_rate"] = 0.18
        return body

    # when / then: each change is named, with its path
    assert contract_problems(stripe.checkout.Session, corrupt("invented field")) == [
        "Session.shipping_rate_override: not a field of Session in the SDK"
    ]
    assert contract_problems(stripe.checkout.Session, corrupt("missing field")) == [
        "Session.payment_status: missing (the SDK types it as always present)"
    ]
    [literal] = contract_problems(stripe.checkout.Session, corrupt("unknown literal"))
    assert literal.startswith("Session.status: 'paid' is not one of the SDK's values")
    assert contract_problems(stripe.checkout.Session, corrupt("null where none is allowed")) == [
        "Session.livemode: null, but the SDK allows no null"
    ]
    assert contract_problems(stripe.checkout.Session, corrupt("nested invented field")) == [
        "Session.payment_intent.risk_score: not a field of PaymentIntent in the SDK"
    ]
    assert contract_problems(stripe.checkout.Session, corrupt("nested object field")) == [
        "Session.automatic_tax.tax_rate: not a field of AutomaticTax in the SDK"
    ]


REQUEST_OPTIONS = set(RequestOptions.__annotations__)


@pytest.mark.parametrize(
    ("accepted", "declared"),
    [(SESSION_CREATE_PARAMS, SessionCreateParams), (REFUND_CREATE_PARAMS, RefundCreateParams)],
    ids=["checkout.sessions.create", "refunds.create"],
)
def test_the_parameters_fakestripe_accepts_are_the_sdks(accepted: frozenset[str], declared: type) -> None:
    sdk = set(declared.__annotations__) - REQUEST_OPTIONS
    assert {"invented": sorted(set(accepted) - sdk), "missing": sorted(sdk - set(accepted))} == {
        "invented": [],
        "missing": [],
    }
