"""fakestripe webhooks (signing, retries, redelivery, auto_deliver) and the hosted page."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

from tests.fakestripe.conftest import Receiver
from tests.fakestripe.test_api import session_params
from tests.stripe_fixtures import FakeStripeServer

SECRET = "whsec_fakestripe_tests"


def first_record_once_delivered(fake: FakeStripeServer, timeout: float = 5.0) -> dict[str, Any]:
    """The first event record once fakestripe has recorded a 2xx delivery, or as it is at the deadline.

    The receiver sees the request before fakestripe has read the answer and recorded the attempt.
    """
    deadline = time.monotonic() + timeout
    record = fake.events()[0]
    while not record["delivered"] and time.monotonic() < deadline:
        time.sleep(0.05)
        record = fake.events()[0]
    return record


def test_signed_webhook_verifies_with_sdk(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer, receiver: Receiver
) -> None:
    fakestripe.config(webhook_url=receiver.url, webhook_secret=SECRET)
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    fakestripe.pay(s.id)
    [req] = receiver.wait_for(1)
    assert req["headers"]["Content-Type"].startswith("application/json")
    sig = req["headers"]["Stripe-Signature"]
    event = stripe.Webhook.construct_event(req["body"].decode(), sig, SECRET)
    assert event.type == "checkout.session.completed"
    assert event.object == "event"
    assert event.id.startswith("evt_")
    assert event.livemode is False
    obj = event.data.object
    assert (obj.id, obj.payment_status, obj.metadata["order_id"]) == (s.id, "paid", "42")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(req["body"].decode(), sig, "whsec_wrong")
    record = first_record_once_delivered(fakestripe)
    assert record["delivered"] is True
    assert record["last_status"] == 200


def test_webhook_retried_until_2xx(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500]
    fakestripe.config(webhook_url=receiver.url, webhook_secret=SECRET)
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    stripe_client.v1.checkout.sessions.expire(s.id)
    reqs = receiver.wait_for(3)
    assert [r["answered"] for r in reqs] == [500, 500, 200]
    assert len({r["body"] for r in reqs}) == 1  # the same event each time
    record = first_record_once_delivered(fakestripe)
    assert [a["status"] for a in record["attempts"]] == [500, 500, 200]


def test_auto_deliver_off_then_manual_redelivery_in_any_order(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer, receiver: Receiver
) -> None:
    fakestripe.config(webhook_url=receiver.url, webhook_secret=SECRET, auto_deliver=False)
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    fakestripe.pay(s.id)
    paid = stripe_client.v1.checkout.sessions.retrieve(s.id)
    assert isinstance(paid.payment_intent, str)
    stripe_client.v1.refunds.create(params={"payment_intent": paid.payment_intent})
    time.sleep(0.3)
    assert receiver.requests == []
    records = [r for r in fakestripe.events() if r["event"]["type"] != "refund.created"]
    assert [r["event"]["type"] for r in records] == ["checkout.session.completed", "charge.refunded"]
    assert all(r["attempts"] == [] for r in records)
    completed, refunded = (r["event"]["id"] for r in records)

    receiver.statuses = [400]
    assert fakestripe.deliver(refunded) == {"status": 400, "error": None}
    assert fakestripe.deliver(completed)["status"] == 200
    assert fakestripe.deliver(completed)["status"] == 200  # duplicate delivery
    reqs = receiver.wait_for(3)
    ids = [json.loads(r["body"])["id"] for r in reqs]
    assert ids == [refunded, completed, completed]
    for r in reqs:
        stripe.Webhook.construct_event(r["body"].decode(), r["headers"]["Stripe-Signature"], SECRET)
    assert [a["status"] for a in fakestripe.events()[0]["attempts"]] == [200, 200]


def test_no_webhook_url_records_only(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    fakestripe.pay(s.id)
    [record] = fakestripe.events()
    assert record["event"]["pending_webhooks"] == 0
    assert record["attempts"] == []
    resp = requests.post(f"{fakestripe.base_url}/_fake/events/{record['event']['id']}/deliver", timeout=5)
    assert resp.status_code == 400
    evt = stripe_client.v1.events.retrieve(record["event"]["id"])
    assert evt.type == "checkout.session.completed"


def test_hosted_page_shows_lines_and_pays(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    assert s.url is not None
    page = requests.get(s.url, timeout=5)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    for text in ("Mug", "25.00 EUR", "Tea", "4.99 EUR", "29.99 EUR", "name='card'", "Pay"):
        assert text in page.text
    assert "http://shop.test/cancel" in page.text

    declined = requests.post(s.url, data={"card": "4000000000000002"}, timeout=5, allow_redirects=False)
    assert declined.status_code == 200
    assert "Your card was declined." in declined.text
    assert stripe_client.v1.checkout.sessions.retrieve(s.id).status == "open"

    ok = requests.post(s.url, data={"card": "4242 4242 4242 4242"}, timeout=5, allow_redirects=False)
    assert ok.status_code == 303
    location = urlsplit(ok.headers["Location"])
    assert (location.netloc, location.path) == ("shop.test", "/ok")
    assert parse_qs(location.query) == {"session_id": [s.id]}
    assert stripe_client.v1.checkout.sessions.retrieve(s.id).payment_status == "paid"
    assert "already complete" in requests.get(s.url, timeout=5).text


def test_hosted_page_for_expired_session(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    assert s.url is not None
    stripe_client.v1.checkout.sessions.expire(s.id)
    assert "expired" in requests.get(s.url, timeout=5).text
    assert requests.get(fakestripe.base_url + "/pay/cs_test_nope", timeout=5).status_code == 404
