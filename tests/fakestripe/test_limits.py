"""Real-Stripe limits in fakestripe: minimum charge, line items, metadata, idempotency, shapes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
import stripe

from tests.fakestripe.test_api import session_params
from tests.stripe_fixtures import FakeStripeServer


def advance(fake: FakeStripeServer, seconds: int) -> None:
    """Move fakestripe's clock forward."""
    requests.post(
        f"{fake.base_url}/_fake/clock", json={"advance_seconds": seconds}, timeout=5
    ).raise_for_status()


def _line(currency: str, unit_amount: int, quantity: int = 1) -> dict[str, Any]:
    return {
        "price_data": {"currency": currency, "unit_amount": unit_amount, "product_data": {"name": "X"}},
        "quantity": quantity,
    }


def _create_error(client: stripe.StripeClient, **overrides: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=session_params(**overrides))
    return info.value


# ------------------------------------------------------------------ minimum charge
@pytest.mark.parametrize(
    ("currency", "amount"),
    [("usd", 49), ("eur", 40), ("inr", 4_000), ("jpy", 70)],
)
def test_total_below_the_usd_minimum_is_amount_too_small(
    stripe_client: stripe.StripeClient, currency: str, amount: int
) -> None:
    err = _create_error(stripe_client, line_items=[_line(currency, amount)])
    assert (err.http_status, err.code, err.param) == (400, "amount_too_small", "line_items")
    assert err.user_message is not None
    assert "at least" in err.user_message


@pytest.mark.parametrize(("currency", "amount"), [("usd", 50), ("inr", 4_200), ("inr", 149_900)])
def test_total_at_or_above_the_minimum_is_accepted(
    stripe_client: stripe.StripeClient, currency: str, amount: int
) -> None:
    session = stripe_client.v1.checkout.sessions.create(
        params=session_params(line_items=[_line(currency, amount)])
    )
    assert session.amount_total == amount


def test_settlement_currency_is_configurable(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given: a GBP account (minimum £0.30 ≈ $0.38)
    assert fakestripe.config(settlement_currency="GBP")["settlement_currency"] == "gbp"

    # then: 45 US cents are enough, 29 pence are not
    assert stripe_client.v1.checkout.sessions.create(params=session_params(line_items=[_line("usd", 45)]))
    err = _create_error(stripe_client, line_items=[_line("gbp", 29)])
    assert err.code == "amount_too_small"
    assert err.user_message == "Amount must be at least £0.30 gbp"


def test_unknown_settlement_currency_is_refused(fakestripe: FakeStripeServer) -> None:
    resp = requests.post(
        f"{fakestripe.base_url}/_fake/config", json={"settlement_currency": "xyz"}, timeout=5
    )
    assert resp.status_code == 400


# ------------------------------------------------------------------ line items
def test_at_most_100_line_items(stripe_client: stripe.StripeClient) -> None:
    assert stripe_client.v1.checkout.sessions.create(
        params=session_params(line_items=[_line("usd", 100)] * 100)
    )
    err = _create_error(stripe_client, line_items=[_line("usd", 100)] * 101)
    assert (err.http_status, err.param) == (400, "line_items")


# ------------------------------------------------------------------ metadata
@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({f"k{i}": "v" for i in range(51)}, "Metadata can have up to 50 keys, but you've set 51."),
        ({"k" * 41: "v"}, "must be a string under 40 characters"),
        ({"k": "v" * 501}, "must be a string under 500 characters"),
    ],
)
def test_metadata_limits(stripe_client: stripe.StripeClient, metadata: dict[str, str], message: str) -> None:
    err = _create_error(stripe_client, metadata=metadata)
    assert (err.http_status, err.param) == (400, "metadata")
    assert err.user_message is not None
    assert message in err.user_message


def test_metadata_at_the_limits_is_accepted(stripe_client: stripe.StripeClient) -> None:
    metadata = {f"k{i:039d}": "v" * 500 for i in range(50)}
    session = stripe_client.v1.checkout.sessions.create(params=session_params(metadata=metadata))
    assert session.metadata is not None
    assert len(session.metadata.to_dict()) == 50


# ------------------------------------------------------------------ idempotency
def _post(fake: FakeStripeServer, key: str, body: dict[str, str]) -> requests.Response:
    headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": key}
    return requests.post(f"{fake.base_url}/v1/refunds", data=body, headers=headers, timeout=5)


def test_idempotency_key_longer_than_255_is_400(fakestripe: FakeStripeServer) -> None:
    resp = _post(fakestripe, "k" * 256, {"payment_intent": "pi_x"})
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert _post(fakestripe, "k" * 255, {"payment_intent": "pi_x"}).status_code == 404  # key accepted


def test_execution_500_is_saved_and_replayed(fakestripe: FakeStripeServer) -> None:
    # given: the next request fails once it began executing
    fakestripe.faults(fail_next=1, status=500, stage="execution")
    key = str(uuid.uuid4())

    # when
    first = _post(fakestripe, key, {"payment_intent": "pi_x"})
    again = _post(fakestripe, key, {"payment_intent": "pi_x"})

    # then: the same 500, replayed; a new key runs the request
    assert (first.status_code, again.status_code) == (500, 500)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _post(fakestripe, str(uuid.uuid4()), {"payment_intent": "pi_x"}).status_code == 404


def test_edge_500_is_not_saved(fakestripe: FakeStripeServer) -> None:
    fakestripe.faults(fail_next=1, status=500)
    key = str(uuid.uuid4())
    assert _post(fakestripe, key, {"payment_intent": "pi_x"}).status_code == 500
    assert _post(fakestripe, key, {"payment_intent": "pi_x"}).status_code == 404


def test_keys_are_forgotten_after_24_hours_of_fake_time(fakestripe: FakeStripeServer) -> None:
    key = str(uuid.uuid4())
    assert _post(fakestripe, key, {"payment_intent": "pi_x"}).status_code == 404
    advance(fakestripe, 23 * 3600)
    assert _post(fakestripe, key, {"payment_intent": "pi_y"}).json()["error"]["type"] == "idempotency_error"
    advance(fakestripe, 3600)
    fresh = _post(fakestripe, key, {"payment_intent": "pi_y"})
    assert fresh.status_code == 404
    assert "Idempotent-Replayed" not in fresh.headers


# ------------------------------------------------------------------ shapes
def test_error_bodies_omit_code_and_param_when_they_do_not_apply(fakestripe: FakeStripeServer) -> None:
    resp = requests.get(
        f"{fakestripe.base_url}/nothing", headers={"Authorization": "Bearer sk_test_x"}, timeout=5
    )
    assert resp.status_code == 404
    assert set(resp.json()["error"]) == {"type", "message"}


def test_old_ui_mode_hosted_is_refused(stripe_client: stripe.StripeClient) -> None:
    assert _create_error(stripe_client, ui_mode="hosted").param == "ui_mode"
