"""The state machine's one home: a status added in checkout/states.py alone shows everywhere, and the
transition hooks run inside the transaction that moved the order."""

from __future__ import annotations

from typing import cast

import pytest
from django.core import checks
from django.db import transaction
from django.urls import reverse
from pytest_django.fixtures import SettingsWrapper

from accounts.models import User
from checkout import states
from checkout.admin import order_status_counts
from checkout.models import Order
from checkout.services.transitions import order_transition
from tests.checkout.backoffice import admin_client_for, make_order, staff_user

pytestmark = pytest.mark.django_db

S = Order.Status
CHANGELIST = reverse("admin:checkout_order_changelist")


def test_a_status_added_in_states_alone_renders_in_the_admin_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a new status known only to checkout/states.py (label and colour), and an order in it
    monkeypatch.setitem(states.LABELS, "on_hold", "On hold")
    monkeypatch.setitem(states.COLOURS, "on_hold", "#0b6e69")
    held = make_order(status=S.PAID)
    Order.objects.filter(pk=held.pk).update(status="on_hold")
    client = admin_client_for(staff_user("checkout.view_order"))

    # when
    response = client.get(CHANGELIST)

    # then: listed, counted and coloured like any other status
    assert response.status_code == 200
    html = response.content.decode()
    assert "order-status-on_hold" in html
    assert "#0b6e69" in html
    counts = {row["status"]: row["count"] for row in response.context["status_counts"]}
    assert counts["on_hold"] == 1


def test_a_status_without_a_colour_or_label_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a status value in the database that states.py labels but gives no colour
    monkeypatch.setitem(states.LABELS, "disputed", "Disputed")
    order = make_order(status=S.PAID)
    Order.objects.filter(pk=order.pk).update(status="disputed")
    client = admin_client_for(staff_user("checkout.view_order"))

    # when
    listed = client.get(CHANGELIST)
    detail = client.get(reverse("admin:checkout_order_change", args=[order.pk]))

    # then
    assert (listed.status_code, detail.status_code) == (200, 200)
    assert states.NEUTRAL_COLOUR in listed.content.decode()
    assert {row["status"]: row["colour"] for row in order_status_counts(Order.objects.all())}["disputed"] == (
        states.NEUTRAL_COLOUR
    )


def test_status_sets_follow_the_table() -> None:
    assert {S.EXPIRED, S.CANCELLED} == states.FINAL_STATUSES
    assert states.REFUNDABLE_STATUSES < states.PAID_STATUSES
    assert all(status in states.LABELS and status in states.COLOURS for status in S.values)
    assert states.sources_of(S.REFUNDED) == [S.PAID, S.PARTIALLY_REFUNDED]
    assert states.sources_of(S.PAID) == [S.FAILED, S.PARTIALLY_REFUNDED, S.PENDING, S.REFUNDED]


@pytest.mark.parametrize(
    ("status", "payment_id", "refunded", "expected"),
    [
        (S.PAID, "pi_1", 0, True),
        (S.PARTIALLY_REFUNDED, "pi_1", 500, True),
        (S.PARTIALLY_REFUNDED, "pi_1", 1_000, False),
        (S.PAID, "", 0, False),
        (S.PENDING, "pi_1", 0, False),
        (S.REFUNDED, "pi_1", 1_000, False),
    ],
)
def test_can_refund(status: str, payment_id: str, refunded: int, expected: bool) -> None:
    order = Order(status=status, payment_id=payment_id, total_amount=1_000, amount_refunded=refunded)
    assert states.can_refund(order) is expected


def test_transition_hooks_run_once_inside_the_transaction(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a hook that records what it saw, and the order's row as its transaction sees it
    seen: list[tuple[str, str, str, str]] = []

    def hook(change: states.Transition) -> None:
        row = Order.objects.get(pk=change.order_id).status
        seen.append((change.from_status, change.to_status, change.provider_event_id, row))

    monkeypatch.setattr(states, "_hooks", [*states.transition_hooks(), hook])
    order = make_order(user, status=S.PENDING)

    # when: the same transition twice (the second is refused)
    with transaction.atomic():
        first = order_transition(order_id=order.pk, to_status=S.PAID, source="api", provider_event_id="evt_1")
    second = order_transition(order_id=order.pk, to_status=S.PAID, source="api")

    # then
    assert (first, second) == (True, False)
    assert seen == [("pending", "paid", "evt_1", "paid")]


def test_a_failing_hook_rolls_the_transition_back(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    def hook(change: states.Transition) -> None:
        raise RuntimeError("downstream refused")

    monkeypatch.setattr(states, "_hooks", [hook])
    order = make_order(user, status=S.PENDING)
    events = order.events.count()

    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        order_transition(order_id=order.pk, to_status=S.PAID, source="api")

    # then
    order.refresh_from_db()
    assert (order.status, order.events.count()) == (S.PENDING, events)


def test_a_cart_quantity_setting_above_the_database_ceiling_is_a_system_warning(
    settings: SettingsWrapper,
) -> None:
    settings.CART_MAX_QUANTITY = 5_000
    assert [
        message.id for message in checks.run_checks() if cast(str, message.id).startswith("checkout.")
    ] == ["checkout.W001"]
    settings.CART_MAX_QUANTITY = 99
    assert [
        message.id for message in checks.run_checks() if cast(str, message.id).startswith("checkout.")
    ] == []
