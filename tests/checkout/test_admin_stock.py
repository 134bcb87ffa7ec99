"""Stock in the order back-office: the "oversold" filter and badge, the items' SKUs, and the refund
page's "Return the items to stock" (through the real SDK against fakestripe)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.models import StockMovement
from catalog.stock import ledger_mismatches, stock_set
from checkout.models import Order, OrderItem
from tests.checkout.backoffice import admin_client_for, make_order, staff_user, stripe_order
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:checkout_order_changelist")
RETURN = StockMovement.Reason.RETURN


@pytest.fixture
def refunder() -> User:
    return staff_user("checkout.view_order", "checkout.refund_order")


@pytest.fixture
def client(refunder: User) -> Client:
    return admin_client_for(refunder)


def refund_url(order: Order) -> str:
    return reverse("admin:checkout_order_refund", args=[order.pk])


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def only_item(order: Order) -> OrderItem:
    return cast(OrderItem, order.items.get())


# --------------------------------------------------------------------------- oversold


def test_the_oversold_filter_lists_only_flagged_orders_with_their_badge(client: Client) -> None:
    # given
    oversold = make_order()
    Order.objects.filter(pk=oversold.pk).update(oversold=True)
    fine = make_order()

    # when
    flagged = client.get(CHANGELIST, {"oversold": "yes"})
    everything = client.get(CHANGELIST)
    detail = client.get(reverse("admin:checkout_order_change", args=[oversold.pk]))

    # then
    assert [order.number for order in flagged.context["cl"].result_list] == [oversold.number]
    assert {order.number for order in everything.context["cl"].result_list} == {oversold.number, fine.number}
    assert everything.content.decode().count('class="order-oversold"') == 1
    assert 'class="order-oversold"' in detail.content.decode()


def test_the_order_page_shows_each_items_sku_and_variant(client: Client) -> None:
    # given
    order = make_order()
    item = only_item(order)
    OrderItem.objects.filter(pk=item.pk).update(sku="TEE-M-RED", variant_title="M / Red")

    # when
    response = client.get(reverse("admin:checkout_order_change", args=[order.pk]))

    # then
    html = response.content.decode()
    assert "TEE-M-RED" in html
    assert "M / Red" in html
    assert reverse("admin:catalog_productvariant_change", args=[item.variant_id]) in html


# --------------------------------------------------------------------------- return to stock


def test_return_to_stock_adds_one_return_movement_per_variant_once(
    stripe_env: FakeStripeServer, client: Client, refunder: User
) -> None:
    # given: a paid order of 2 units (and 1 more of the same variant on a second line), 5 on hand
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    item = only_item(order)
    OrderItem.objects.create(
        order=order,
        product=item.product,
        variant=item.variant,
        name=item.name,
        unit_amount=1,
        quantity=1,
        line_total=1,
    )
    stock_set(variant_id=item.variant_id, on_hand=5, actor="setup")

    # when: a partial refund with the goods back, then the rest, ticking the box again
    first = client.post(
        refund_url(order), {"amount": "100.00", "amount_refunded_before": 0, "return_to_stock": "on"}
    )
    second = client.post(
        refund_url(order), {"amount": "900.00", "amount_refunded_before": 10_000, "return_to_stock": "on"}
    )

    # then: one return of the 3 units, by the refunder, tied to the order
    assert (first.status_code, second.status_code) == (302, 302)
    returns = list(
        StockMovement.objects.filter(reason=RETURN).values_list("variant_id", "delta", "order_id", "actor")
    )
    assert returns == [(item.variant_id, 3, order.pk, refunder.username)]
    item.variant.refresh_from_db()
    assert item.variant.stock_on_hand == 8
    assert ledger_mismatches() == []
    assert any(level == "success" and "to stock" in text for level, text in messages_of(first))
    assert any(level == "info" and "returned before" in text for level, text in messages_of(second))
    page = client.get(refund_url(order))
    assert "Items returned to stock" in page.content.decode()


def test_a_refund_without_the_box_returns_nothing(stripe_env: FakeStripeServer, client: Client) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    stock_set(variant_id=only_item(order).variant_id, on_hand=5, actor="setup")

    # when
    response = client.post(refund_url(order), {"amount": "1000.00", "amount_refunded_before": 0})

    # then
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert not StockMovement.objects.filter(reason=RETURN).exists()


def test_a_refused_refund_returns_nothing_to_stock(stripe_env: FakeStripeServer, client: Client) -> None:
    # given
    order = stripe_order(stripe_env, unit_amount=50_000, quantity=2)
    stock_set(variant_id=only_item(order).variant_id, on_hand=5, actor="setup")

    # when: more than was paid
    response = client.post(
        refund_url(order), {"amount": "5000.00", "amount_refunded_before": 0, "return_to_stock": "on"}
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not StockMovement.objects.filter(reason=RETURN).exists()
