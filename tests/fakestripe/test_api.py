"""fakestripe's /v1 API through the real ``stripe`` SDK: sessions, payments, refunds, errors."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import pytest
import requests
import stripe
from stripe.params.checkout import SessionCreateParams

from tests.stripe_fixtures import FakeStripeServer

ASYNC_CARD = "4000003800000446"


def session_params(**overrides: Any) -> SessionCreateParams:
    """Typical shopapi-style create params: two lines, metadata, PI metadata, email."""
    params: SessionCreateParams = {
        "mode": "payment",
        "success_url": "http://shop.test/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.test/cancel",
        "client_reference_id": "order-42",
        "customer_email": "ann@example.com",
        "metadata": {"order_id": "42"},
        "payment_intent_data": {"metadata": {"order_id": "42"}},
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1250,
                    "product_data": {"name": "Mug"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 499,
                    "product_data": {"name": "Tea"},
                },
                "quantity": 1,
            },
        ],
    }
    # Overrides may break the SDK's schema on purpose (an unknown key, None for a required field:
    # test_create_validation_errors checks fakestripe's answer), so the merge is only cast back.
    return cast("SessionCreateParams", {**params, **overrides})


def paid_session(client: stripe.StripeClient, fake: FakeStripeServer) -> stripe.checkout.Session:
    session = client.v1.checkout.sessions.create(params=session_params())
    assert fake.pay(session.id, "4242424242424242").status_code == 200
    return client.v1.checkout.sessions.retrieve(session.id)


def test_create_session_shape(stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    assert s.id.startswith("cs_test_")
    assert s.object == "checkout.session"
    assert (s.status, s.payment_status, s.mode) == ("open", "unpaid", "payment")
    assert s.amount_total == s.amount_subtotal == 2 * 1250 + 499
    assert s.currency == "eur"
    assert s.metadata is not None
    assert s.metadata.to_dict() == {"order_id": "42"}
    assert s.client_reference_id == "order-42"
    assert s.customer_email == "ann@example.com"
    assert s.payment_intent is None
    assert s.livemode is False
    assert s.url == f"{fakestripe.base_url}/pay/{s.id}"
    assert s.expires_at - s.created == 24 * 3600


def test_retrieve_expand_and_line_items(stripe_client: stripe.StripeClient) -> None:
    created = stripe_client.v1.checkout.sessions.create(params=session_params())
    plain = stripe_client.v1.checkout.sessions.retrieve(created.id)
    assert "line_items" not in plain
    s = stripe_client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
    assert s.line_items is not None
    assert s.line_items["object"] == "list"  # ListObject's type declares no `object` attribute
    assert [(li.description, li.quantity, li.amount_total) for li in s.line_items.data] == [
        ("Mug", 2, 2500),
        ("Tea", 1, 499),
    ]
    page = stripe_client.v1.checkout.sessions.line_items.list(created.id, params={"limit": 1})
    assert page.has_more is True
    assert page.data[0].price is not None
    assert page.data[0].price.unit_amount == 1250
    assert page.data[0].price.currency == "eur"


def test_list_newest_first_with_pagination_and_filters(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    ids = [stripe_client.v1.checkout.sessions.create(params=session_params()).id for _ in range(3)]
    everything = stripe_client.v1.checkout.sessions.list()
    assert everything["object"] == "list"  # ListObject's type declares no `object` attribute
    assert everything.url == "/v1/checkout/sessions"
    assert [s.id for s in everything.data] == ids[::-1]
    first = stripe_client.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in first.data] == [ids[2], ids[1]]
    assert first.has_more
    rest = stripe_client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": first.data[-1].id})
    assert [s.id for s in rest.data] == [ids[0]]
    assert not rest.has_more
    fakestripe.pay(ids[1])
    paid = stripe_client.v1.checkout.sessions.retrieve(ids[1])
    assert isinstance(paid.payment_intent, str)
    by_pi = stripe_client.v1.checkout.sessions.list(params={"payment_intent": paid.payment_intent})
    assert [s.id for s in by_pi.data] == [ids[1]]
    complete = stripe_client.v1.checkout.sessions.list(params={"status": "complete"})
    assert [s.id for s in complete.data] == [ids[1]]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe_client.v1.checkout.sessions.list(params={"limit": 101})
    assert exc.value.param == "limit"


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"mode": "subscription"}, "mode"),
        ({"line_items": None}, "line_items"),
        ({"success_url": None}, "success_url"),
        (
            {
                "line_items": [
                    {
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 0,
                            "product_data": {"name": "Free"},
                        },
                        "quantity": 1,
                    }
                ]
            },
            "line_items[0][price_data][unit_amount]",
        ),
        (
            {
                "line_items": [
                    {
                        "price_data": {"currency": "eur", "unit_amount": 100, "product_data": {"name": "A"}},
                        "quantity": 1,
                    },
                    {
                        "price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "B"}},
                        "quantity": 1,
                    },
                ]
            },
            "line_items[1][price_data][currency]",
        ),
        ({"expires_at": int(time.time()) + 1700}, "expires_at"),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at"),
        ({"metdata": {"typo": "x"}}, "metdata"),
    ],
)
def test_create_validation_errors(
    stripe_client: stripe.StripeClient, overrides: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe_client.v1.checkout.sessions.create(params=session_params(**overrides))
    assert exc.value.http_status == 400
    assert exc.value.error is not None
    assert exc.value.error.type == "invalid_request_error"
    assert exc.value.param == param


def test_expires_at_within_bounds_is_kept(stripe_client: stripe.StripeClient) -> None:
    at = int(time.time()) + 3600
    assert stripe_client.v1.checkout.sessions.create(params=session_params(expires_at=at)).expires_at == at


def test_expire_then_expire_again_fails(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    expired = stripe_client.v1.checkout.sessions.expire(s.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe_client.v1.checkout.sessions.expire(s.id)
    assert 'status of "expired"' in str(exc.value.user_message)
    assert [e["event"]["type"] for e in fakestripe.events()] == ["checkout.session.expired"]
    assert fakestripe.pay(s.id).status_code == 400


def test_lazy_expiry_emits_event_once(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    fakestripe.advance_clock(24 * 3600 + 1)
    assert stripe_client.v1.checkout.sessions.retrieve(s.id).status == "expired"
    assert stripe_client.v1.checkout.sessions.list().data[0].status == "expired"
    assert [e["event"]["type"] for e in fakestripe.events()] == ["checkout.session.expired"]


def test_unknown_id_is_invalid_request_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert exc.value.http_status == 404
    assert (exc.value.code, exc.value.param) == ("resource_missing", "id")
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.payment_intents.retrieve("pi_missing")
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.refunds.retrieve("re_missing")


def test_missing_api_key_is_authentication_error(fakestripe: FakeStripeServer) -> None:
    resp = requests.get(fakestripe.base_url + "/v1/checkout/sessions", timeout=5)
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "authentication_error"
    with pytest.raises(stripe.AuthenticationError):
        fakestripe.client(api_key="").v1.checkout.sessions.list()


def test_idempotent_replay_returns_same_session(stripe_client: stripe.StripeClient) -> None:
    opts: stripe.RequestOptions = {"idempotency_key": "order-42-attempt-1"}
    a = stripe_client.v1.checkout.sessions.create(params=session_params(), options=opts)
    b = stripe_client.v1.checkout.sessions.create(params=session_params(), options=opts)
    assert a.id == b.id
    assert b.last_response is not None
    assert b.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [s.id for s in stripe_client.v1.checkout.sessions.list().data] == [a.id]


def test_idempotency_key_scoped_to_api_key(fakestripe: FakeStripeServer) -> None:
    opts: stripe.RequestOptions = {"idempotency_key": "shared-key"}
    a = fakestripe.client("sk_test_one").v1.checkout.sessions.create(params=session_params(), options=opts)
    b = fakestripe.client("sk_test_two").v1.checkout.sessions.create(params=session_params(), options=opts)
    assert a.id != b.id


def test_idempotency_key_with_different_params_is_idempotency_error(
    stripe_client: stripe.StripeClient,
) -> None:
    opts: stripe.RequestOptions = {"idempotency_key": "k-mismatch"}
    stripe_client.v1.checkout.sessions.create(params=session_params(), options=opts)
    # 400 + type idempotency_error -> the SDK raises stripe.IdempotencyError.
    with pytest.raises(stripe.IdempotencyError) as exc:
        stripe_client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="other"), options=opts
        )
    assert exc.value.http_status == 400


def test_concurrent_request_with_in_flight_key_gets_409(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    fakestripe.faults(latency_ms=1200)
    opts: stripe.RequestOptions = {"idempotency_key": "k-concurrent"}
    first: dict[str, Any] = {}

    def create() -> None:
        first["session"] = stripe_client.v1.checkout.sessions.create(params=session_params(), options=opts)

    t = threading.Thread(target=create)
    t.start()
    time.sleep(0.4)
    # 409 is not mapped to IdempotencyError by stripe-python (only 400/404 are):
    # it raises the generic stripe.APIError, with error.type == "idempotency_error".
    with pytest.raises(stripe.APIError) as exc:
        stripe_client.v1.checkout.sessions.create(params=session_params(), options=opts)
    assert exc.value.http_status == 409
    assert exc.value.error is not None
    assert exc.value.error.type == "idempotency_error"
    assert not isinstance(exc.value, stripe.IdempotencyError)
    t.join(10)
    fakestripe.faults()
    again = stripe_client.v1.checkout.sessions.create(params=session_params(), options=opts)
    assert again.id == first["session"].id


def test_pay_4242_completes_and_pi_succeeds(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    created = stripe_client.v1.checkout.sessions.create(params=session_params())
    resp = fakestripe.pay(created.id, "4242 4242 4242 4242")
    assert resp.status_code == 200
    assert resp.json()["id"] == created.id
    s = stripe_client.v1.checkout.sessions.retrieve(created.id)
    assert (s.status, s.payment_status) == ("complete", "paid")
    assert isinstance(s.payment_intent, str)
    assert s.payment_intent.startswith("pi_")
    pi = stripe_client.v1.payment_intents.retrieve(s.payment_intent)
    assert pi.object == "payment_intent"
    assert (pi.status, pi.amount, pi.amount_received, pi.currency) == ("succeeded", 2999, 2999, "eur")
    assert pi.metadata.to_dict() == {"order_id": "42"}
    assert isinstance(pi.latest_charge, str)
    assert pi.latest_charge.startswith("ch_")
    types = [e["event"]["type"] for e in fakestripe.events()]
    assert types == ["checkout.session.completed"]
    assert fakestripe.pay(created.id).status_code == 400  # already complete


def test_declined_card_is_402_card_error(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    resp = fakestripe.pay(s.id, "4000000000000002")
    assert resp.status_code == 402
    err = resp.json()["error"]
    assert err["type"] == "card_error"
    assert err["code"] == "card_declined"
    assert err["decline_code"] == "generic_decline"
    assert set(err) >= {"type", "code", "message"}
    again = stripe_client.v1.checkout.sessions.retrieve(s.id)
    assert (again.status, again.payment_intent) == ("open", None)
    assert fakestripe.events() == []


@pytest.mark.parametrize(
    ("outcome", "payment_status", "pi_status", "event"),
    [
        ("succeeded", "paid", "succeeded", "checkout.session.async_payment_succeeded"),
        ("failed", "unpaid", "requires_payment_method", "checkout.session.async_payment_failed"),
    ],
)
def test_async_card_pending_then_settled(
    stripe_client: stripe.StripeClient,
    fakestripe: FakeStripeServer,
    outcome: str,
    payment_status: str,
    pi_status: str,
    event: str,
) -> None:
    s = stripe_client.v1.checkout.sessions.create(params=session_params())
    assert fakestripe.pay(s.id, ASYNC_CARD).status_code == 200
    pending = stripe_client.v1.checkout.sessions.retrieve(s.id)
    assert (pending.status, pending.payment_status) == ("complete", "unpaid")
    assert isinstance(pending.payment_intent, str)
    pi = stripe_client.v1.payment_intents.retrieve(pending.payment_intent)
    assert (pi.status, pi.amount_received) == ("processing", 0)
    completed = fakestripe.events()[0]["event"]
    assert completed["type"] == "checkout.session.completed"
    assert completed["data"]["object"]["payment_status"] == "unpaid"

    assert fakestripe.settle(s.id, outcome).status_code == 200
    settled = stripe_client.v1.checkout.sessions.retrieve(s.id)
    assert settled.payment_status == payment_status
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == pi_status
    assert [e["event"]["type"] for e in fakestripe.events()][-1] == event
    assert fakestripe.settle(s.id, outcome).status_code == 400  # nothing left to settle


def test_refunds_partial_full_and_errors(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    s = paid_session(stripe_client, fakestripe)
    assert isinstance(s.payment_intent, str)
    partial = stripe_client.v1.refunds.create(
        params={
            "payment_intent": s.payment_intent,
            "amount": 999,
            "reason": "requested_by_customer",
            "metadata": {"order_id": "42"},
        }
    )
    assert partial.object == "refund"
    assert partial.id.startswith("re_")
    assert (partial.amount, partial.currency, partial.status) == (999, "eur", "succeeded")
    assert partial.payment_intent == s.payment_intent
    assert isinstance(partial.charge, str)
    assert partial.charge.startswith("ch_")
    assert partial.reason == "requested_by_customer"
    assert partial.metadata is not None
    assert partial.metadata.to_dict() == {"order_id": "42"}
    assert stripe_client.v1.refunds.retrieve(partial.id).amount == 999

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe_client.v1.refunds.create(params={"payment_intent": s.payment_intent, "amount": 2001})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")

    rest = stripe_client.v1.refunds.create(params={"payment_intent": s.payment_intent})
    assert rest.amount == 2999 - 999

    with pytest.raises(stripe.InvalidRequestError) as done:
        stripe_client.v1.refunds.create(params={"payment_intent": s.payment_intent})
    assert done.value.code == "charge_already_refunded"

    refunded = [e["event"] for e in fakestripe.events("charge.refunded")]
    assert len(refunded) == 2
    charges = [e["data"]["object"] for e in refunded]
    assert [c["object"] for c in charges] == ["charge", "charge"]
    assert [(c["amount_refunded"], c["refunded"]) for c in charges] == [(999, False), (2999, True)]
    assert charges[1]["payment_intent"] == s.payment_intent
    assert charges[1]["metadata"] == {"order_id": "42"}


def test_fault_fail_next_raises_api_error(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    fakestripe.faults(fail_next=2, status=500)
    for _ in range(2):
        with pytest.raises(stripe.APIError) as exc:
            stripe_client.v1.checkout.sessions.list()
        assert exc.value.http_status == 500
    assert stripe_client.v1.checkout.sessions.list().data == []


def test_fault_429_is_rate_limit_error(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    fakestripe.faults(fail_next=1, status=429)
    with pytest.raises(stripe.RateLimitError):
        stripe_client.v1.checkout.sessions.list()


def test_latency_beyond_client_timeout_is_connection_error(fakestripe: FakeStripeServer) -> None:
    fakestripe.faults(latency_ms=1500)
    client = fakestripe.client(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.list()
    assert time.monotonic() - started < 1.4
    fakestripe.faults()
    assert client.v1.checkout.sessions.list().data == []
