"""fakestripe's shipping address collection, shipping options, promotion codes, automatic tax, totals,
the tamper control and the hosted page asking for them — and that all of it, as shopapi sends and
reads it, is what the pinned SDK types."""

from __future__ import annotations

import sys
import types
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import stripe
import typing_extensions
from stripe.params.checkout import SessionCreateParams

from payments.interface import CheckoutOptions, ShippingOption
from payments.stripe.api import _option_params
from tests.fakestripe.sdk_contract import contract_problems, object_class
from tests.fakestripe.test_api import session_params
from tests.stripe_fixtures import FakeStripeServer

CARD_OK = "4242424242424242"
ADDRESS = {"name": "Ann Lee", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
OPTIONS = CheckoutOptions(
    shipping_countries=("DE", "FR"),
    shipping_options=(
        ShippingOption(ref="1", name="Standard", amount=500, min_days=3, max_days=5),
        ShippingOption(ref="2", name="Express", amount=1500),
    ),
    allow_promotion_codes=True,
    automatic_tax=True,
)
SUBTOTAL = 2 * 1250 + 499  # session_params' lines


def shipping_params(options: CheckoutOptions = OPTIONS) -> SessionCreateParams:
    """`session_params` plus exactly what shopapi sends for `options` (payments/stripe/api.py)."""
    return typing.cast(SessionCreateParams, {**session_params(), **_option_params(options, "eur")})


def control(fake: FakeStripeServer, path: str, **data: Any) -> requests.Response:
    return requests.post(f"{fake.base_url}/_fake/{path}", data=data, timeout=10)


def raw(fake: FakeStripeServer, path: str, **params: Any) -> dict[str, Any]:
    response = requests.get(
        fake.base_url + path, params=params or None, headers={"Authorization": "Bearer sk_test_x"}, timeout=10
    )
    body: dict[str, Any] = response.json()
    return body


def test_shipping_options_become_rates_and_the_first_is_selected(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # when
    session = stripe_client.v1.checkout.sessions.create(params=shipping_params())

    # then
    assert session.shipping_address_collection is not None
    assert session.shipping_address_collection.allowed_countries == ["DE", "FR"]
    assert [o.shipping_amount for o in session.shipping_options] == [500, 1500]
    first = stripe_client.v1.shipping_rates.retrieve(str(session.shipping_options[0].shipping_rate))
    assert first.id.startswith("shr_")
    assert (first.display_name, first.metadata.to_dict(), first.fixed_amount.amount) == (  # type: ignore[union-attr]
        "Standard",
        {"shipping_method_id": "1"},
        500,
    )
    assert first.delivery_estimate is not None
    assert first.delivery_estimate.maximum is not None
    assert first.delivery_estimate.maximum.value == 5
    assert session.shipping_cost is not None
    assert session.shipping_cost.shipping_rate == first.id
    assert (session.amount_subtotal, session.amount_total) == (SUBTOTAL, SUBTOTAL + 500)
    assert session.automatic_tax.status == "requires_location_inputs"
    assert session.allow_promotion_codes is True
    expanded = raw(
        fakestripe, f"/v1/checkout/sessions/{session.id}", **{"expand[]": "shipping_cost.shipping_rate"}
    )
    assert expanded["shipping_cost"]["shipping_rate"]["metadata"] == {"shipping_method_id": "1"}


def test_paying_with_address_rate_percent_code_and_tax(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given
    session = stripe_client.v1.checkout.sessions.create(params=shipping_params())
    express = str(session.shipping_options[1].shipping_rate)
    assert control(fakestripe, "promotion_codes", code="SAVE10", percent_off=10).status_code == 200

    # when
    paid = control(
        fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK, shipping_rate=express,
        promotion_code="save10", **ADDRESS,
    )  # fmt: skip

    # then: 10 % of the items, 5 % tax on items - discount + shipping, rounded half up
    assert paid.status_code == 200, paid.text
    body = paid.json()
    discount = (SUBTOTAL * 10 + 50) // 100
    tax = ((SUBTOTAL - discount + 1500) * 5 + 50) // 100
    assert body["total_details"] == {"amount_discount": discount, "amount_shipping": 1500, "amount_tax": tax}
    assert body["amount_total"] == SUBTOTAL - discount + 1500 + tax
    assert body["shipping_cost"]["shipping_rate"] == express
    assert body["collected_information"]["shipping_details"] == {
        "name": "Ann Lee",
        "address": {**{k: v for k, v in ADDRESS.items() if k != "name"}, "line2": "", "state": ""},
    }
    assert body["automatic_tax"]["status"] == "complete"
    assert body["discounts"][0]["promotion_code"].startswith("promo_")
    intent = raw(fakestripe, f"/v1/payment_intents/{body['payment_intent']}")
    assert intent["amount"] == body["amount_total"]


def test_an_amount_off_code_never_takes_the_items_below_zero(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given
    options = CheckoutOptions(allow_promotion_codes=True)
    session = stripe_client.v1.checkout.sessions.create(params=shipping_params(options))
    control(fakestripe, "promotion_codes", code="BIG", amount_off=100_000, currency="eur")
    control(fakestripe, "promotion_codes", code="DOLLAR", amount_off=100, currency="usd")

    # when
    wrong_currency = control(
        fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK, promotion_code="DOLLAR"
    )
    paid = control(fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK, promotion_code="BIG")

    # then
    assert wrong_currency.json()["error"]["param"] == "promotion_code"
    assert paid.json()["total_details"]["amount_discount"] == SUBTOTAL
    assert paid.json()["amount_total"] == 0


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({**ADDRESS, "line1": ""}, "line1"),
        ({**ADDRESS, "country": "US"}, "country"),
        ({**ADDRESS, "shipping_rate": "shr_other"}, "shipping_rate"),
        ({**ADDRESS, "promotion_code": "NOPE"}, "promotion_code"),
        ({**ADDRESS, "card": "4000000000000002"}, None),
    ],
    ids=["missing address line", "country not allowed", "unknown rate", "unknown code", "declined card"],
)
def test_a_refused_payment_changes_nothing(
    stripe_client: stripe.StripeClient,
    fakestripe: FakeStripeServer,
    fields: dict[str, str],
    param: str | None,
) -> None:
    # given
    session = stripe_client.v1.checkout.sessions.create(params=shipping_params())
    before = raw(fakestripe, f"/v1/checkout/sessions/{session.id}")

    # when
    refused = control(fakestripe, f"checkout/sessions/{session.id}/pay", **{"card": CARD_OK, **fields})

    # then
    assert refused.status_code in (400, 402)
    assert refused.json()["error"].get("param") == param
    assert raw(fakestripe, f"/v1/checkout/sessions/{session.id}") == before


def test_codes_and_shipping_rates_only_where_the_session_allows_them(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given: a plain session
    session = stripe_client.v1.checkout.sessions.create(params=session_params())
    control(fakestripe, "promotion_codes", code="SAVE10", percent_off=10)

    # when
    code = control(fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK, promotion_code="SAVE10")
    rate = control(fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK, shipping_rate="shr_x")
    plain = control(fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK)

    # then
    assert (code.status_code, code.json()["error"]["param"]) == (400, "promotion_code")
    assert (rate.status_code, rate.json()["error"]["param"]) == (400, "shipping_rate")
    assert plain.status_code == 200
    assert plain.json().get("collected_information") is None
    assert plain.json()["total_details"] == {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"percent_off": 10}, "code"),
        ({"code": "A", "percent_off": 10, "amount_off": 5}, "percent_off"),
        ({"code": "A", "percent_off": 0}, "percent_off"),
        ({"code": "A", "amount_off": 0, "currency": "eur"}, "amount_off"),
        ({"code": "A", "amount_off": 5}, "currency"),
        ({"code": "TAKEN", "percent_off": 5}, "code"),
    ],
)
def test_the_promotion_code_control_checks_its_input(
    fakestripe: FakeStripeServer, body: dict[str, Any], param: str
) -> None:
    control(fakestripe, "promotion_codes", code="TAKEN", percent_off=5)
    response = control(fakestripe, "promotion_codes", **body)
    assert (response.status_code, response.json()["error"]["param"]) == (400, param)


def _rate(name: str | None = "X", currency: str = "eur") -> dict[str, Any]:
    data: dict[str, Any] = {"fixed_amount": {"amount": 1, "currency": currency}}
    if name:
        data["display_name"] = name
    return {"shipping_rate_data": data}


RATE_DATA = "shipping_options[0][shipping_rate_data]"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        (
            {"shipping_address_collection": {"allowed_countries": ["Germany"]}},
            "shipping_address_collection[allowed_countries]",
        ),
        ({"shipping_options": [_rate(currency="usd")]}, f"{RATE_DATA}[fixed_amount][currency]"),
        ({"shipping_options": [_rate(name=None)]}, f"{RATE_DATA}[display_name]"),
        ({"shipping_options": [{"shipping_rate": "shr_missing"}]}, "shipping_options[0][shipping_rate]"),
        ({"shipping_options": [_rate()] * 6}, "shipping_options"),
        ({"automatic_tax": {"enabled": ""}}, "automatic_tax[enabled]"),
    ],
    ids=["bad country", "rate currency", "rate name", "unknown rate", "six options", "tax flag"],
)
def test_bad_shipping_parameters_are_400_naming_them(
    stripe_client: stripe.StripeClient, change: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.checkout.sessions.create(
            params=typing.cast(SessionCreateParams, {**session_params(), **change})
        )
    assert refused.value.param == param


def test_tamper_overwrites_the_reported_amounts_before_and_after_payment(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given
    session = stripe_client.v1.checkout.sessions.create(params=shipping_params(CheckoutOptions()))

    # when
    tampered = control(fakestripe, f"checkout/sessions/{session.id}/tamper", amount_total=1, amount_tax=7)
    paid = control(fakestripe, f"checkout/sessions/{session.id}/pay", card=CARD_OK)
    nothing = control(fakestripe, f"checkout/sessions/{session.id}/tamper", colour="red")

    # then
    assert (tampered.json()["amount_total"], tampered.json()["total_details"]["amount_tax"]) == (1, 7)
    assert (paid.json()["amount_total"], paid.json()["total_details"]["amount_tax"]) == (1, 7)
    assert paid.json()["amount_subtotal"] == SUBTOTAL
    assert nothing.status_code == 400


def test_the_hosted_page_asks_for_address_method_and_code_and_lists_the_test_cards(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given
    session = stripe_client.v1.checkout.sessions.create(params=shipping_params())
    url = f"{fakestripe.base_url}/pay/{session.id}"

    # when
    page = requests.get(url, timeout=10).text
    refused = requests.post(url, data={"card": CARD_OK, "name": "Ann Lee"}, timeout=10)
    paid = requests.post(
        url,
        data={"card": CARD_OK, **ADDRESS, "shipping_rate": str(session.shipping_options[1].shipping_rate)},
        allow_redirects=False,
        timeout=10,
    )

    # then
    for needle in ("name='line1'", "name='postal_code'", "<select id='country'", "name='shipping_rate'",
                   "Express", "3–5 business days", "name='promotion_code'",
                   "4000000000000002", "4000003800000446", "4000000000007726", "<style>"):  # fmt: skip
        assert needle in page, needle
    for external in ("<link", "<script", "src=", "url(", "@import"):
        assert external not in page
    assert refused.status_code == 200
    assert "role='alert'" in refused.text
    assert "value='Ann Lee'" in refused.text
    assert paid.status_code == 303
    assert raw(fakestripe, f"/v1/checkout/sessions/{session.id}")["total_details"]["amount_shipping"] == 1500


def test_every_shipping_object_is_what_the_sdk_types_declare(
    stripe_client: stripe.StripeClient, fakestripe: FakeStripeServer
) -> None:
    # given: open and paid sessions with shipping, a code and tax; their rate; their events
    open_id = stripe_client.v1.checkout.sessions.create(params=shipping_params()).id
    paid_id = stripe_client.v1.checkout.sessions.create(params=shipping_params()).id
    control(fakestripe, "promotion_codes", code="SAVE10", percent_off=10)
    assert control(
        fakestripe, f"checkout/sessions/{paid_id}/pay", card=CARD_OK, promotion_code="SAVE10", **ADDRESS
    ).ok
    rate_id = raw(fakestripe, f"/v1/checkout/sessions/{open_id}")["shipping_options"][0]["shipping_rate"]
    objects = [
        raw(fakestripe, f"/v1/checkout/sessions/{open_id}"),
        raw(
            fakestripe,
            f"/v1/checkout/sessions/{paid_id}",
            **{"expand[]": ["payment_intent", "shipping_cost.shipping_rate"]},
        ),
        raw(fakestripe, f"/v1/shipping_rates/{rate_id}"),
    ]
    events = raw(fakestripe, "/v1/events", limit=100)["data"]

    # then
    problems = [p for obj in objects for p in contract_problems(object_class(obj["object"]) or dict, obj)]
    problems += [
        p for event in events for p in contract_problems(stripe.checkout.Session, event["data"]["object"])
    ]
    assert problems == []


def _resolve(hint: Any, namespace: dict[str, Any]) -> Any:
    """An annotation of the SDK's params (strings, forward references, `NotRequired`) as a type."""
    if isinstance(hint, str):
        hint = eval(hint, namespace)  # noqa: S307 - the SDK's own annotation text
    if isinstance(hint, typing.ForwardRef):
        hint = eval(hint.__forward_arg__, namespace)  # noqa: S307
    if typing.get_origin(hint) in (typing.NotRequired, typing.Required):
        return _resolve(typing.get_args(hint)[0], namespace)
    return hint


def _typed_problems(hint: Any, value: Any, path: str, namespace: dict[str, Any]) -> list[str]:
    """`value` against a `SessionCreateParams` annotation: keys known, scalars of the right type."""
    hint = _resolve(hint, namespace)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        found = [
            _typed_problems(h, value, path, namespace) for h in typing.get_args(hint) if h is not type(None)
        ]
        return [] if any(not f for f in found) else found[0]
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, v in enumerate(value) for p in _typed_problems(item, v, f"{path}[{i}]", namespace)]
    if origin is typing.Literal:
        return [] if value in typing.get_args(hint) else [f"{path}: {value!r} not in {typing.get_args(hint)}"]
    if typing_extensions.is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        known = hint.__annotations__
        return [f"{path}.{k}: unknown to the SDK" for k in value if k not in known] + [
            p
            for k, v in value.items()
            if k in known
            for p in _typed_problems(known[k], v, f"{path}.{k}", namespace)
        ]
    if hint in (int, str, bool):
        return [] if type(value) is hint else [f"{path}: {type(value).__name__} is not {hint.__name__}"]
    if origin is dict or hint is dict:
        return [] if isinstance(value, dict) else [f"{path}: not a dict"]
    return [f"{path}: unchecked annotation {hint!r}"]


def _sdk_problems(params: dict[str, Any]) -> list[str]:
    namespace = {**vars(typing), **vars(sys.modules[SessionCreateParams.__module__])}
    return _typed_problems(SessionCreateParams, params, "params", namespace)


def test_what_shopapi_sends_for_shipping_codes_and_tax_is_typed_by_the_sdk() -> None:
    # given: every option shopapi can send
    params = _option_params(OPTIONS, "inr")

    # when
    problems = _sdk_problems(params)

    # then
    assert set(params) == {
        "shipping_address_collection",
        "shipping_options",
        "allow_promotion_codes",
        "automatic_tax",
    }
    assert problems == []
    wrong = {"shipping_options": [{"shipping_rate_data": {"fixed_amount": {"amount": "5"}, "colour": 1}}]}
    assert _sdk_problems(wrong) == [
        "params.shipping_options[0].shipping_rate_data.colour: unknown to the SDK",
        "params.shipping_options[0].shipping_rate_data.fixed_amount.amount: str is not int",
    ]


def test_parsing_reads_the_older_top_level_shipping_details() -> None:
    from payments.stripe.parsing import session_from_payload

    session = session_from_payload(
        {
            "id": "cs_1",
            "amount_total": 10,
            "shipping_details": {"name": "Ann", "address": {"line1": "1 Main St", "country": "DE"}},
            "expires_at": int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        }
    )
    assert session.shipping_address is not None
    assert (session.shipping_address.name, session.shipping_address.line1, session.shipping_address.city) == (
        "Ann",
        "1 Main St",
        "",
    )
