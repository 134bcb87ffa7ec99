"""One settlement mapping: every session state, through every way an order learns of it, gives one status.

Runs on the in-memory provider (tests/payments/memory_gateway.py), through the real API, services
and reconciliation, so it also shows that nothing outside `payments/` depends on Stripe.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from checkout.models import Cart, Order
from checkout.services.reconcile import payments_reconcile
from payments.interface import SessionState
from tests.checkout.conftest import checkout_url, make_cart
from tests.conftest import client_for
from tests.factories import CartItemFactory, ProductFactory
from tests.payments.memory_gateway import MemoryGateway

pytestmark = pytest.mark.django_db(transaction=True)

Entry = Callable[[APIClient, Cart, dict[str, Any]], Any]


def _confirm(client: APIClient, cart: Cart, checkout: dict[str, Any]) -> Any:
    return client.post("/api/v1/orders/confirm/", {"session_id": checkout["session_id"]})


def _webhook(client: APIClient, cart: Cart, checkout: dict[str, Any]) -> Any:
    body = {
        "id": f"evt_{checkout['session_id']}",
        "type": "session.updated",
        "session_id": checkout["session_id"],
    }
    return APIClient().post(
        reverse("payments-webhook"),
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_MEMORY_SIGNATURE="ok",
    )


def _reconcile(client: APIClient, cart: Cart, checkout: dict[str, Any]) -> Any:
    return payments_reconcile(older_than=timedelta(0))


def _cancel(client: APIClient, cart: Cart, checkout: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/orders/{checkout['order_id']}/cancel/")


def _supersede(client: APIClient, cart: Cart, checkout: dict[str, Any]) -> Any:
    CartItemFactory(cart=cart, product=ProductFactory(unit_amount=10_000))
    return client.post(checkout_url(cart))


ENTRIES: dict[str, Entry] = {
    "confirm": _confirm,
    "webhook": _webhook,
    "reconcile": _reconcile,
    "cancel": _cancel,
    "supersede": _supersede,
}

# The provider's word settles the order the same way whoever hears it. Only an OPEN session
# differs, by intent: the passive entries leave it payable; cancel and a new checkout close it.
EXPECTED: dict[SessionState, str] = {
    SessionState.PAID: "paid",
    SessionState.FAILED: "failed",
    SessionState.EXPIRED: "expired",
    SessionState.PROCESSING: "pending",
}
CLOSES_OPEN_SESSIONS = {"cancel", "supersede"}


@pytest.mark.parametrize("state", list(SessionState))
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_every_entry_point_settles_a_session_state_the_same_way(
    memory_gateway: type[MemoryGateway], user: User, state: SessionState, entry: str
) -> None:
    # given: a pending order whose session the provider now reports in `state`
    client = client_for(user)
    cart = make_cart(user)
    checkout = client.post(checkout_url(cart)).json()
    memory_gateway.set_state(checkout["session_id"], state)

    # when
    ENTRIES[entry](client, cart, checkout)

    # then
    order = Order.objects.get(pk=checkout["order_id"])
    if state is SessionState.OPEN:
        expected = "cancelled" if entry in CLOSES_OPEN_SESSIONS else "pending"
    else:
        expected = EXPECTED[state]
    assert order.status == expected
    assert order.events.filter(to_status=expected).exclude(from_status=expected).count() == (
        0 if expected == "pending" else 1
    )
    if expected == "paid":
        assert order.payment_id == f"pay_{checkout['session_id']}"
        assert Cart.objects.get(pk=cart.pk).status == Cart.Status.CHECKED_OUT


def test_a_superseded_session_reported_later_changes_nothing(
    memory_gateway: type[MemoryGateway], user: User
) -> None:
    # given: a first checkout, superseded by a second (the cart changed)
    client = client_for(user)
    cart = make_cart(user)
    first = client.post(checkout_url(cart)).json()
    second = _supersede(client, cart, first).json()
    assert Order.objects.get(pk=first["order_id"]).status == "cancelled"

    # when: the provider reports the first session expired
    memory_gateway.set_state(first["session_id"], SessionState.EXPIRED)
    _webhook(client, cart, first)

    # then: neither order moved again
    assert Order.objects.get(pk=first["order_id"]).status == "cancelled"
    assert Order.objects.get(pk=second["order_id"]).status == "pending"
