"""fakestripe's refund lifecycle (test cards, settle control, events) and background expiry."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import requests
import stripe

from fakestripe.server import make_server
from tests.fakestripe.conftest import Receiver
from tests.fakestripe.test_api import session_params
from tests.fakestripe.test_limits import advance
from tests.stripe_fixtures import FakeStripeServer

REFUND_PENDING = "4000000000007726"
REFUND_FAILS = "4000000000005126"


def _paid_pi(client: stripe.StripeClient, fake: FakeStripeServer, card: str) -> stripe.PaymentIntent:
    session = client.v1.checkout.sessions.create(params=session_params())
    assert fake.pay(session.id, card).status_code == 200
    paid = client.v1.checkout.sessions.retrieve(session.id)
    return client.v1.payment_intents.retrieve(str(paid.payment_intent))


def _settle(fake: FakeStripeServer, refund_id: str, **form: str) -> requests.Response:
    return requests.post(f"{fake.base_url}/_fake/refunds/{refund_id}/settle", data=form, timeout=5)


def _types(fake: FakeStripeServer) -> list[str]:
    return [r["event"]["type"] for r in fake.events() if r["event"]["type"] != "checkout.session.completed"]


def _amount_refunded(client: stripe.StripeClient, pi: stripe.PaymentIntent) -> int:
    return client.v1.charges.retrieve(str(pi.latest_charge)).amount_refunded


def test_ordinary_refund_succeeds_at_once(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    pi = _paid_pi(stripe_client, fakestripe, "4242424242424242")
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    assert (refund.status, refund.pending_reason) == ("succeeded", None)
    assert _types(fakestripe) == ["refund.created", "charge.refunded"]
    assert _settle(fakestripe, refund.id, outcome="failed").status_code == 400


def test_pending_refund_then_succeeds(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given
    pi = _paid_pi(stripe_client, fakestripe, REFUND_PENDING)

    # when
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})

    # then: pending, already counted on the charge
    assert (refund.status, refund.pending_reason) == ("pending", "processing")
    assert _amount_refunded(stripe_client, pi) == 500

    # when
    settled = _settle(fakestripe, refund.id, outcome="succeeded")

    # then
    assert settled.status_code == 200
    assert settled.json()["status"] == "succeeded"
    assert stripe_client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert _types(fakestripe) == ["refund.created", "charge.refunded", "refund.updated"]
    assert _amount_refunded(stripe_client, pi) == 500


def test_refund_on_5126_succeeds_then_fails(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given
    pi = _paid_pi(stripe_client, fakestripe, REFUND_FAILS)
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded"
    assert _amount_refunded(stripe_client, pi) == pi.amount

    # when
    failed = _settle(fakestripe, refund.id, outcome="failed", failure_reason="expired_or_canceled_card")

    # then: failed, taken back out of amount_refunded, and refundable again
    body: dict[str, Any] = failed.json()
    assert (body["status"], body["failure_reason"]) == ("failed", "expired_or_canceled_card")
    assert _amount_refunded(stripe_client, pi) == 0
    assert _types(fakestripe) == ["refund.created", "charge.refunded", "refund.updated", "refund.failed"]
    assert stripe_client.v1.refunds.create(params={"payment_intent": pi.id}).status == "succeeded"


def test_settle_control_errors(stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer) -> None:
    pi = _paid_pi(stripe_client, fakestripe, REFUND_PENDING)
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi.id})
    assert _settle(fakestripe, "re_missing", outcome="succeeded").status_code == 404
    assert _settle(fakestripe, refund.id, outcome="maybe").status_code == 400
    assert _settle(fakestripe, refund.id, outcome="failed", failure_reason="nope").status_code == 400
    assert _settle(fakestripe, refund.id, outcome="failed").json()["failure_reason"] == "unknown"
    assert _settle(fakestripe, refund.id, outcome="succeeded").status_code == 400


def test_open_session_expires_in_the_background(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer, receiver: Receiver
) -> None:
    # given
    fakestripe.config(webhook_url=receiver.url, webhook_secret="whsec_test")
    session = stripe_client.v1.checkout.sessions.create(params=session_params())

    # when: its expiry passes and nobody reads it
    advance(fakestripe, 24 * 3600 + 1)

    # then: the webhook arrives on its own, once; reading agrees and adds nothing
    [request] = receiver.wait_for(1, timeout=5)
    event = json.loads(request["body"])
    assert (event["type"], event["data"]["object"]["id"]) == ("checkout.session.expired", session.id)
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    time.sleep(1.2)
    assert len(fakestripe.events(type="checkout.session.expired")) == 1
    assert len(receiver.requests) == 1


def test_sweep_thread_stops_with_the_server() -> None:
    httpd = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    time.sleep(0.2)
    assert any(t.name == "fakestripe-sweep" for t in threading.enumerate())
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()
    assert not thread.is_alive()
    assert not any(t.name == "fakestripe-sweep" for t in threading.enumerate())
