"""The gateway against fakestripe over HTTP through the real SDK: values, idempotency, error mapping."""

from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from payments.stripe import api as stripe_gateway
from payments.stripe.api import LineItem, RefundRefused, SessionNotOpen, WebhookSignatureInvalid
from shopapi.exceptions import PaymentProviderError, PaymentProviderUnavailable
from tests.checkout.conftest import CARD_OK, sign
from tests.stripe_fixtures import FakeStripeServer


@pytest.fixture(autouse=True)
def _rupee_settlement(stripe_env: FakeStripeServer) -> None:
    """These tests send small rupee amounts (₹10–₹20): an account settling in rupees takes them."""
    stripe_env.config(settlement_currency="inr")


def _create(
    key: str | None = None, amount: int = 1_000, quantity: int = 2, order_id: str | None = None
) -> stripe_gateway.StripeSession:
    order_id = order_id or str(uuid.uuid4())
    # whole minutes, so two calls in one test send identical parameters
    expires_at = (timezone.now() + timedelta(minutes=32)).replace(second=0, microsecond=0)
    return stripe_gateway.checkout_session_create(
        order_id=order_id,
        order_number="SA-TEST0001",
        line_items=[LineItem(name="Tea", unit_amount=amount, quantity=quantity)],
        currency="inr",
        customer_email="buyer@example.com",
        expires_at=expires_at,
        idempotency_key=key or f"checkout:{order_id}",
    )


def test_create_returns_typed_session_with_order_references(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient
) -> None:
    # when
    session = _create(amount=1_000, quantity=2)

    # then
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total == 2_000
    assert session.currency == "inr"
    assert session.metadata["order_id"] == session.client_reference_id == session.order_id
    assert session.url
    assert session.url.startswith(stripe_env.base_url)
    assert session.expires_at is not None
    assert session.expires_at.tzinfo is not None
    remote = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert remote["customer_email"] == "buyer@example.com"


def test_same_idempotency_key_creates_one_session(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient
) -> None:
    # given
    order_id = str(uuid.uuid4())
    first = _create(key=f"checkout:{order_id}", order_id=order_id)

    # when: the same call again (an SDK retry, a re-run of the same order)
    second = _create(key=f"checkout:{order_id}", order_id=order_id)

    # then
    assert second.id == first.id
    assert len(stripe_client.v1.checkout.sessions.list({"limit": 100}).data) == 1


def test_retrieve_after_payment_has_payment_intent_id(stripe_env: FakeStripeServer) -> None:
    # given
    session = _create()
    assert stripe_env.pay(session.id, CARD_OK).status_code == 200

    # when
    paid = stripe_gateway.checkout_session_retrieve(session_id=session.id)

    # then
    assert paid.is_paid
    assert paid.payment_intent_id
    assert paid.payment_intent_id.startswith("pi_")


def test_expire_open_session_then_not_open(stripe_env: FakeStripeServer) -> None:
    # given
    session = _create()

    # when
    expired = stripe_gateway.checkout_session_expire(session_id=session.id)

    # then
    assert expired.status == "expired"
    with pytest.raises(SessionNotOpen):
        stripe_gateway.checkout_session_expire(session_id=session.id)


def test_expire_paid_session_raises_session_not_open(stripe_env: FakeStripeServer) -> None:
    # given
    session = _create()
    stripe_env.pay(session.id, CARD_OK)

    # when / then
    with pytest.raises(SessionNotOpen):
        stripe_gateway.checkout_session_expire(session_id=session.id)


def test_expire_unknown_session_is_a_provider_error_not_session_not_open(
    stripe_env: FakeStripeServer,
) -> None:
    with pytest.raises(PaymentProviderError) as exc:
        stripe_gateway.checkout_session_expire(session_id="cs_test_nope")
    assert exc.value.code == "payment_provider_error"


def test_refund_partial_then_too_large_is_refused(stripe_env: FakeStripeServer) -> None:
    # given
    session = _create(amount=1_000, quantity=1)
    stripe_env.pay(session.id, CARD_OK)
    pi = stripe_gateway.checkout_session_retrieve(session_id=session.id).payment_intent_id
    assert pi

    # when
    refund = stripe_gateway.refund_create(
        payment_intent_id=pi, amount=400, idempotency_key="refund:1", metadata={"order": "x"}
    )

    # then
    assert (refund.amount, refund.status, refund.payment_intent_id) == (400, "succeeded", pi)
    with pytest.raises(RefundRefused) as exc:
        stripe_gateway.refund_create(payment_intent_id=pi, amount=601, idempotency_key="refund:2")
    assert exc.value.code == "amount_too_large"
    stripe_gateway.refund_create(payment_intent_id=pi, amount=600, idempotency_key="refund:3")
    with pytest.raises(RefundRefused) as exc:
        stripe_gateway.refund_create(payment_intent_id=pi, amount=1, idempotency_key="refund:4")
    assert exc.value.code == "charge_already_refunded"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"fail_next": 2, "status": 500}, PaymentProviderError),
        ({"fail_next": 2, "status": 429}, PaymentProviderUnavailable),
    ],
)
def test_server_faults_beyond_retries_are_mapped(
    stripe_env: FakeStripeServer, fault: dict[str, int], expected: type[Exception]
) -> None:
    # given: more failures than the one retry
    stripe_env.faults(**fault)

    # when / then
    with pytest.raises(expected) as exc:
        _create()
    assert type(exc.value) is expected


def test_one_500_is_absorbed_by_the_retry(
    stripe_env: FakeStripeServer, stripe_client: stripe.StripeClient
) -> None:
    # given
    stripe_env.faults(fail_next=1, status=500)

    # when
    session = _create()

    # then
    assert session.status == "open"
    assert len(stripe_client.v1.checkout.sessions.list({"limit": 100}).data) == 1


def test_timeout_is_unavailable(stripe_env: FakeStripeServer, settings: SettingsWrapper) -> None:
    # given
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_env.faults(latency_ms=1_000)

    # when / then
    started = time.monotonic()
    with pytest.raises(PaymentProviderUnavailable):
        stripe_gateway.checkout_session_retrieve(session_id="cs_test_whatever")
    assert time.monotonic() - started < 0.9


def test_connection_refused_is_unavailable(stripe_env: FakeStripeServer, settings: SettingsWrapper) -> None:
    # given: a port nothing listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    # when / then
    with pytest.raises(PaymentProviderUnavailable) as exc:
        _create()
    assert exc.value.code == "payment_provider_unavailable"
    assert exc.value.status_code == 503


def test_bad_api_key_is_misconfigured(stripe_env: FakeStripeServer, settings: SettingsWrapper) -> None:
    settings.STRIPE_SECRET_KEY = "rk_live_wrong"
    with pytest.raises(PaymentProviderError) as exc:
        _create()
    assert (exc.value.code, exc.value.status_code) == ("payment_provider_misconfigured", 502)


def test_session_from_payload_accepts_expanded_payment_intent() -> None:
    session = stripe_gateway.session_from_payload(
        {
            "id": "cs_1",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": 5,
            "currency": "INR",
            "client_reference_id": None,
            "metadata": {"order_id": "abc"},
            "payment_intent": {"id": "pi_1", "object": "payment_intent"},
            "expires_at": 1_700_000_000,
        }
    )
    assert (session.payment_intent_id, session.order_id, session.currency) == ("pi_1", "abc", "inr")


class TestWebhookConstruct:
    payload = json.dumps({"id": "evt_1", "type": "ping", "data": {"object": {}}}).encode()

    def test_valid_signature_returns_the_event(self, settings: SettingsWrapper) -> None:
        settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
        event = stripe_gateway.webhook_event_construct(
            payload=self.payload, sig_header=sign(self.payload, "whsec_x")
        )
        assert event["id"] == "evt_1"

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "garbage",
            "t=1,v1=deadbeef",
        ],
    )
    def test_missing_or_malformed_header_is_invalid(
        self, settings: SettingsWrapper, header: str | None
    ) -> None:
        settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
        with pytest.raises(WebhookSignatureInvalid):
            stripe_gateway.webhook_event_construct(payload=self.payload, sig_header=header)

    def test_wrong_secret_is_invalid(self, settings: SettingsWrapper) -> None:
        settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
        with pytest.raises(WebhookSignatureInvalid):
            stripe_gateway.webhook_event_construct(
                payload=self.payload, sig_header=sign(self.payload, "whsec_other")
            )

    def test_stale_timestamp_is_invalid(self, settings: SettingsWrapper) -> None:
        settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
        old = int(time.time()) - 301
        with pytest.raises(WebhookSignatureInvalid):
            stripe_gateway.webhook_event_construct(
                payload=self.payload, sig_header=sign(self.payload, "whsec_x", timestamp=old)
            )
