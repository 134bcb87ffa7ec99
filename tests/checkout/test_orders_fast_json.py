"""The orders list and detail written as bytes (checkout/serializers/order_rows.py: PostgreSQL
writes the JSON text, Python writes three fields into it) are the serializer path's answers: the
same status, bytes and headers, with text needing escapes wherever PostgreSQL or Python writes it,
and for answers the renderer writes another way (an `indent`: the serializer's data again).

The reference is the path other databases take (`_json_in_sql` false: `OrderSerializer` over the
prefetched models, rendered by DRF), which tests/checkout/test_order_rows.py compares with the
serializer for every shape of order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Order, OrderEvent, OrderItem, ShippingMethod
from checkout.ownership import Owner
from checkout.selectors.orders import order_get_for_owner
from checkout.serializers.orders import OrderSerializer
from checkout.services.fulfilment import shipment_create
from checkout.tokens import order_token_derive, order_token_hash
from checkout.views import orders as order_views
from tests.checkout.backoffice import make_order
from tests.checkout.guests import order_token_client
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

ORDERS = "/api/v1/orders/"
# Every character below U+00A0 that text can hold (PostgreSQL's has no NUL), the two the renderer
# escapes and PostgreSQL does not (U+2028, U+2029), and some that neither escapes.
ESCAPES = "".join(chr(code) for code in range(1, 0xA0)) + "\u2028\u2029\ufeff é ☕ 𝄞 e\u0301"
SHORT = '"\\/\x01\x1f\x7f\u2028\u2029é'

Answer = tuple[int, bytes, dict[str, str]]


def _answer(response: Any) -> Answer:
    headers = {name: value for name, value in response.headers.items() if name != "X-Request-ID"}
    return response.status_code, response.content, headers


def _same_as_the_serializer_path(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> bytes:
    """`call`'s answer as written here equals the serializer path's: status, bytes and headers."""
    fast = _answer(call())
    with monkeypatch.context() as patched:
        patched.setattr(order_views, "_json_in_sql", lambda: False)
        reference = _answer(call())
    assert fast == reference
    return fast[1]


def _order_with_escapes(user: User) -> Order:
    """A paid order, shipped in part, whose every text (SQL's and Python's) needs escapes."""
    order = make_order(user, status=Order.Status.PAID, quantity=2)
    method = ShippingMethod.objects.create(name=SHORT, amount=100, currency="inr")
    Order.objects.filter(pk=order.pk).update(
        number=f"N{SHORT}",
        checkout_url=f"https://pay.example.com/{ESCAPES}",
        shipping_method=method,
        shipping_method_name=f"Express {ESCAPES[:90]}",
        shipping_address={"name": ESCAPES, "line1": SHORT, "city": "Pune", "country": "IN"},
    )
    OrderItem.objects.filter(order=order).update(
        name=ESCAPES, sku=ESCAPES[:100] + ESCAPES[-20:], variant_title=ESCAPES[80:]
    )
    OrderEvent.objects.create(order=order, from_status=SHORT, to_status=SHORT, source=SHORT, kind=SHORT)
    shipment_create(
        order_id=order.pk,
        lines={order.items.get().pk: 1},
        carrier=ESCAPES[:99],
        tracking_number=ESCAPES[99:] + "1",
        tracking_url=f"https://track.example.com/{ESCAPES}",
    )
    return order


@pytest.fixture
def verified_user(db: None) -> User:
    return UserFactory.create(email_verified_at=timezone.now())


def test_text_needing_escapes_is_written_as_the_renderer_writes_it(
    verified_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an order whose every text needs escapes, and a plain one after it
    order = _order_with_escapes(verified_user)
    make_order(verified_user)
    client = client_for(verified_user)
    reference = JSONRenderer().render(
        OrderSerializer(order_get_for_owner(order_id=order.pk, owner=verified_user)).data
    )
    # when / then: the list, its second page and the detail are the serializer path's answers
    page = _same_as_the_serializer_path(monkeypatch, lambda: client.get(ORDERS, {"page_size": 50}))
    first = client.get(ORDERS, {"page_size": 1}).json()
    _same_as_the_serializer_path(monkeypatch, lambda: client.get(first["next"]))
    detail = _same_as_the_serializer_path(monkeypatch, lambda: client.get(f"{ORDERS}{order.pk}/"))
    assert detail == reference
    assert reference in page
    # and the text did need escapes, of each kind, from SQL and from Python
    for escaped in (b'\\"', b"\\\\", b"\\u0001", b"\\u001f", b"\\n", b"\\t", b"\\u2028", b"\\u2029"):
        assert escaped in detail
    assert b"\x7f" in detail
    assert "é ☕ 𝄞".encode() in detail
    assert "\u2028".encode() not in page
    assert "\u2029".encode() not in page


def test_the_answers_headers_are_the_serializer_paths(
    verified_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a user's orders and a guest order read by its token
    order = make_order(verified_user)
    make_order(verified_user)
    guest = make_order(UserFactory.create())
    Order.objects.filter(pk=guest.pk).update(user=None, token_hash=order_token_hash(guest.pk))
    client = client_for(verified_user)
    guest_client = order_token_client(order_token_derive(guest.pk))
    # when / then: the same status, bytes and headers (Content-Type, Vary, Cache-Control, ETag...)
    _same_as_the_serializer_path(monkeypatch, lambda: client.get(ORDERS, {"page_size": 1}))
    _same_as_the_serializer_path(monkeypatch, lambda: client.get(f"{ORDERS}{order.pk}/"))
    body = _same_as_the_serializer_path(monkeypatch, lambda: guest_client.get(f"{ORDERS}{guest.pk}/"))
    assert body == JSONRenderer().render(
        OrderSerializer(
            order_get_for_owner(order_id=guest.pk, owner=Owner(order_token_hash=order_token_hash(guest.pk)))
        ).data
    )
    # and a repeated read with its ETag is the same 304
    etag = client.get(f"{ORDERS}{order.pk}/").headers["ETag"]
    answer = _same_as_the_serializer_path(
        monkeypatch, lambda: client.get(f"{ORDERS}{order.pk}/", HTTP_IF_NONE_MATCH=etag)
    )
    assert answer == b""


def test_an_indented_answer_is_still_the_serializers(
    verified_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an order with escapes, asked for with an indent (not what order_rows.py writes)
    order = _order_with_escapes(verified_user)
    client = client_for(verified_user)
    indented = "application/json; indent=4"
    # when / then
    page = _same_as_the_serializer_path(
        monkeypatch, lambda: client.get(ORDERS, {"page_size": 50}, HTTP_ACCEPT=indented)
    )
    _same_as_the_serializer_path(
        monkeypatch, lambda: client.get(f"{ORDERS}{order.pk}/", HTTP_ACCEPT=indented)
    )
    assert b'\n    "results": [\n' in page


def test_page_links_needing_escapes_are_written_as_the_renderer_writes_them(
    verified_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three orders, read a page at a time with query parameters the links carry on
    for _ in range(3):
        make_order(verified_user)
    client: APIClient = client_for(verified_user)
    query = {"page_size": "1", "q": SHORT, "é": "\u2028"}
    # when / then: the first page (`next`) and the second (`next` and `previous`)
    _same_as_the_serializer_path(monkeypatch, lambda: client.get(ORDERS, query))
    second = client.get(ORDERS, query).json()["next"]
    assert "q=" in second
    _same_as_the_serializer_path(monkeypatch, lambda: client.get(second))
