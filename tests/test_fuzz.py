"""Fuzz: generated hostile input to every JSON write endpoint and every list, in-process.

Hypothesis builds malformed JSON (truncated, wrong types, huge numbers, NaN, deep nesting, bad
UTF-8), oversized bodies, hand-made cursors (random bytes, and the cursor's own JSON format with
wrong types and ranges), and hostile headers (X-Forwarded-For garbage, huge headers, odd
Content-Types and charsets, bad Authorization and JWTs). Whatever arrives, the answer is never a
5xx, and every 4xx is the one JSON error shape `{"code", "message", "fields"}`.

Bounded for CI: derandomized (the same examples on every run), a fixed number of examples per
test, the whole module well under a minute. tests/adversarial.py is the live counterpart.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import SettingsWrapper
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from checkout.models import Cart, CartItem
from fakestripe.signing import sign
from tests.factories import CartFactory, CartItemFactory, ProductFactory, UserFactory
from tests.throttle_rates import set_throttle_rates

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SECRET = "whsec_fuzz"
WEBHOOK = "/api/v1/payments/stripe/webhook/"
LISTS = ["/api/v1/products/", "/api/v1/categories/", "/api/v1/orders/", "/api/v1/carts/"]
ORDERINGS = [["-created_at", "-id"], ["unit_amount", "id"], ["-unit_amount", "-id"], ["name", "id"], ["id"]]


@pytest.fixture(autouse=True)
def _open_doors(settings: SettingsWrapper) -> None:
    """Throttles and the lock-out out of the way (the fuzz is about parsing); Stripe unreachable."""
    set_throttle_rates(
        settings, auth_login="100000/min", auth_register="100000/min", auth_register_taken="100000/min"
    )
    settings.LOGIN_LOCKOUT_FAILURES = 1_000_000
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing here may reach a payment provider
    settings.STRIPE_TIMEOUT_SECONDS = 1.0


class Shop:
    """A customer with a token, an open cart with one line and an empty checked-out cart."""

    def __init__(self) -> None:
        self.user: User = UserFactory.create()
        self.token = str(RefreshToken.for_user(self.user).access_token)
        self.refresh = str(RefreshToken.for_user(self.user))
        self.cart: Cart = CartFactory.create(user=self.user)
        self.line: CartItem = CartItemFactory.create(cart=self.cart, product=ProductFactory.create())
        # Checking out a cart with lines would call the payment provider; this one answers first.
        self.empty: Cart = CartFactory.create(user=self.user, status=Cart.Status.CHECKED_OUT)

    def writes(self) -> list[tuple[str, str]]:
        """Every JSON write endpoint: (method, path)."""
        return [
            ("POST", "/api/v1/auth/register/"),
            ("POST", "/api/v1/auth/token/"),
            ("POST", "/api/v1/auth/token/refresh/"),
            ("POST", "/api/v1/auth/logout/"),
            ("POST", "/api/v1/carts/"),
            ("POST", f"/api/v1/carts/{self.cart.pk}/items/"),
            ("PATCH", f"/api/v1/carts/{self.cart.pk}/items/{self.line.pk}/"),
            ("POST", f"/api/v1/carts/{self.empty.pk}/checkout/"),
            ("POST", "/api/v1/orders/confirm/"),
            ("POST", WEBHOOK),
            ("POST", "/api/v1/carts"),  # served as POST /api/v1/carts/
        ]


@pytest.fixture
def shop(db: None) -> Shop:
    return Shop()


def assert_answer(response: _MonkeyPatchedWSGIResponse, sent: object) -> None:
    """No 5xx; a 4xx is the JSON error shape."""
    assert response.status_code < 500, (response.status_code, response.content[:300], sent)
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), (response.status_code, sent)
        body = json.loads(response.content)
        assert isinstance(body, dict), (body, sent)
        assert isinstance(body.get("code"), str), (body, sent)
        assert isinstance(body.get("message"), str), (body, sent)
        assert isinstance(body.get("fields"), dict), (body, sent)


# --- strategies ----------------------------------------------------------------------------------

huge_ints = st.one_of(st.integers(), st.integers(min_value=2**31 - 2, max_value=2**64), st.just(10**80))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    huge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "\x00", "é" * 300, "1" * 5000, "NaN", "-0"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
)
FIELDS = ["username", "email", "password", "refresh", "product_id", "quantity", "session_id", "id", "type"]
# Objects with the names the serializers read, holding values of any type.
field_objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


bodies = st.one_of(
    field_objects.map(_dumps),
    json_values.map(_dumps),
    st.tuples(field_objects.map(_dumps), st.integers(min_value=0, max_value=200)).map(lambda t: t[0][: t[1]]),
    st.binary(max_size=200),
    st.integers(min_value=60, max_value=5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=60, max_value=2000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from(
        [
            b'{"quantity": ' + b"9" * 5000 + b"}",  # past Python's int digit limit
            b'{"quantity": 1e999}',
            b'{"quantity": NaN}',
            b'{"username": "\\ud800"}',  # a lone surrogate
            b'{"username": "a\\u0000b", "password": "x"}',
            b"\xff\xfe{\x00}\x00",
            b'{"a": 1, "a": 2}',
            b" " * (64 * 1024 + 1),  # over API_MAX_BODY_BYTES
            b"[" + b"1," * 40_000 + b"1]",
        ]
    ),
)
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/json; charset=no-such-charset",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=zzz",
    "",
    "*/*",
    "application/json; " + "x=" * 2000,
]
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


forged_jwts = st.tuples(json_values, json_values, st.binary(max_size=40)).map(
    lambda parts: ".".join(_segment(_dumps(p)) for p in parts[:2]) + "." + _segment(parts[2])
)
authorizations = st.one_of(
    st.none(),
    st.sampled_from(["Bearer", "Bearer ", "Bearer  x", "Basic Zm9vOmJhcg==", "Token abc", "bearer a.b.c"]),
    forged_jwts.map(lambda jwt: f"Bearer {jwt}"),
    header_text.map(lambda text: f"Bearer {text}"),
    header_text,
)
forwarded = st.one_of(
    header_text,
    st.lists(
        st.sampled_from(["1.2.3.4", "::1", "unknown", "300.1.1.1", "", "2001:db8::1", "x" * 300]), max_size=8
    ).map(", ".join),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_X_FORWARDED_FOR": forwarded,
        "HTTP_X_BIG": st.integers(min_value=1, max_value=200_000).map(lambda n: "h" * n),
        "HTTP_ACCEPT": st.sampled_from(
            ["*/*", "text/html", "application/xml", "application/json; version=9", ""]
        ),
        "HTTP_HOST": st.sampled_from(["localhost", "evil.example", "localhost:99999", "[::1", ""]),
        "HTTP_STRIPE_SIGNATURE": st.one_of(header_text, st.just("t=1,v1=00")),
    },
)


def _send(
    client: Client, method: str, path: str, body: bytes, content_type: str, **extra: Any
) -> _MonkeyPatchedWSGIResponse:
    return client.generic(method, path, body, content_type=content_type, **extra)


# --- JSON writes ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_json_writes_answer_hostile_bodies_with_4xx_json(
    shop: Shop, data: st.DataObject, body: bytes, content_type: str
) -> None:
    method, path = data.draw(st.sampled_from(shop.writes()), label="endpoint")
    response = _send(Client(), method, path, body, content_type, HTTP_AUTHORIZATION=f"Bearer {shop.token}")
    assert_answer(response, (method, path, body[:200], content_type))


@FUZZ
@given(data=st.data(), extra=headers, authorization=authorizations, body=field_objects.map(_dumps))
def test_json_writes_answer_hostile_headers_with_4xx_json(
    shop: Shop, data: st.DataObject, extra: dict[str, str], authorization: str | None, body: bytes
) -> None:
    method, path = data.draw(st.sampled_from(shop.writes()), label="endpoint")
    if authorization is not None:
        extra = {**extra, "HTTP_AUTHORIZATION": authorization}
    response = _send(Client(), method, path, body, "application/json", **extra)
    assert_answer(response, (method, path, body[:200], {k: v[:100] for k, v in extra.items()}))


events = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=300), json_values),
        "type": st.one_of(
            st.sampled_from(
                [
                    "checkout.session.completed",
                    "checkout.session.async_payment_succeeded",
                    "checkout.session.async_payment_failed",
                    "checkout.session.expired",
                    "charge.refunded",
                    "refund.created",
                    "refund.updated",
                    "refund.failed",
                ]
            ),
            st.text(max_size=130),
            json_values,
        ),
        "data": st.one_of(
            json_values,
            st.fixed_dictionaries({"object": st.one_of(json_values, field_objects)}),
        ),
    },
    optional={"created": json_values, "livemode": json_values, "object": json_values},
)


@FUZZ
@given(event=events)
def test_signed_webhook_events_of_any_shape_answer_4xx_json_or_200(shop: Shop, event: dict[str, Any]) -> None:
    payload = _dumps(event)
    response = _send(
        Client(), "POST", WEBHOOK, payload, "application/json", HTTP_STRIPE_SIGNATURE=sign(payload, SECRET)
    )
    assert_answer(response, payload[:300])


# --- lists ---------------------------------------------------------------------------------------

cursor_payloads = st.fixed_dictionaries(
    {
        "o": st.one_of(st.sampled_from(ORDERINGS), json_values),
        "r": st.one_of(st.booleans(), json_values),
        "p": st.one_of(st.lists(json_values, max_size=3), json_values),
    },
    optional={"x": json_values},
)
cursors = st.one_of(
    st.binary(max_size=120).map(_segment),
    cursor_payloads.map(lambda c: _segment(_dumps(c))),
    st.lists(st.one_of(json_values, st.just(10**30)), min_size=2, max_size=2).map(
        lambda position: _segment(_dumps({"o": ["-created_at", "-id"], "r": False, "p": position}))
    ),
    header_text,
)
list_params = st.fixed_dictionaries(
    {"cursor": cursors},
    optional={
        "page_size": st.one_of(huge_ints.map(str), header_text),
        "ordering": st.one_of(
            st.sampled_from(["unit_amount", "-unit_amount", "name", "-name", "created_at"]), header_text
        ),
        "search": header_text,
        "min_price": st.one_of(huge_ints.map(str), header_text),
        "max_price": st.one_of(huge_ints.map(str), header_text),
        "category": header_text,
        "status": header_text,
    },
)


@FUZZ
@given(data=st.data(), params=list_params, extra=headers)
def test_lists_answer_hostile_cursors_and_parameters_with_4xx_json(
    shop: Shop, data: st.DataObject, params: dict[str, str], extra: dict[str, str]
) -> None:
    path = data.draw(st.sampled_from(LISTS), label="list")
    extra = {**extra, "HTTP_AUTHORIZATION": f"Bearer {shop.token}"}
    response = _send(Client(), "GET", f"{path}?{urlencode(params)}", b"", "", **extra)
    assert_answer(response, (path, params, {k: v[:100] for k, v in extra.items()}))
