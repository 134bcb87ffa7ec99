"""Test helpers for the back-office tests (admin, refunds, reconciliation): orders and staff clients.

`make_order` writes an order straight into the database (for admin pages that only read);
`stripe_order` creates a real Checkout Session at fakestripe through the gateway, so refunds and
reconciliation run against real Stripe objects.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.models import User
from checkout.models import Cart, Order, OrderEvent, OrderItem
from checkout.services.settlement import order_settle
from payments.interface import LineItem, gateway
from tests.factories import ProductFactory, UserFactory, default_variant_of
from tests.stripe_fixtures import FakeStripeServer

_numbers = itertools.count(1)
CARD_OK = "4242424242424242"
CARD_ASYNC = "4000003800000446"


def next_number() -> str:
    return f"SO-T{next(_numbers):06d}"


def make_order(
    user: User | None = None,
    *,
    status: str = Order.Status.PAID,
    unit_amount: int = 149_900,
    quantity: int = 2,
    currency: str = "inr",
    amount_refunded: int = 0,
    session_id: str | None = "auto",
    payment_intent_id: str = "",
    created_at: datetime | None = None,
) -> Order:
    """An order with one item and its history (created, then paid if it is paid).

    `session_id="auto"` invents a unique `cs_test_…` id; None leaves the order without a session.
    """
    user = user or UserFactory.create()
    product = ProductFactory.create(unit_amount=unit_amount, currency=currency)
    cart = Cart.objects.create(
        user=user, status=Cart.Status.CHECKED_OUT if status != Order.Status.PENDING else Cart.Status.OPEN
    )
    number = next_number()
    paid = status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)
    order = Order.objects.create(
        number=number,
        user=user,
        cart=cart,
        status=status,
        currency=currency,
        total_amount=unit_amount * quantity,
        subtotal_amount=unit_amount * quantity,
        amount_refunded=amount_refunded,
        provider_session_id=f"cs_test_{number}" if session_id == "auto" else session_id,
        payment_id=payment_intent_id or (f"pi_test_{number}" if paid else ""),
        content_fingerprint="f" * 64,
        paid_at=timezone.now() if paid else None,
    )
    OrderItem.objects.create(
        order=order,
        product=product,
        variant=default_variant_of(product),
        name=product.name,
        unit_amount=unit_amount,
        quantity=quantity,
        line_total=unit_amount * quantity,
    )
    OrderEvent.objects.create(order=order, from_status="", to_status="pending", source="api")
    if paid:
        OrderEvent.objects.create(order=order, from_status="pending", to_status="paid", source="webhook")
    if created_at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=created_at)
        order.refresh_from_db()
    return order


def staff_user(*perms: str, superuser: bool = False) -> User:
    """A staff user holding `perms` ("checkout.view_order", ...) or a superuser."""
    user = UserFactory.create(is_staff=True, is_superuser=superuser)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def admin_client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stripe_order(
    fake: FakeStripeServer,
    user: User | None = None,
    *,
    unit_amount: int = 50_000,
    quantity: int = 2,
    pay_with: str | None = CARD_OK,
    fulfil: bool = True,
    expires_in: timedelta = timedelta(minutes=31),
    age: timedelta | None = None,
) -> Order:
    """A pending order with a real fakestripe session; paid with `pay_with` (webhook not delivered).

    With `fulfil`, the paid session is also fulfilled (as confirm would), so the order is `paid`
    with a real payment intent. `age` back-dates `created_at` for reconciliation.
    """
    order = make_order(
        user,
        status=Order.Status.PENDING,
        unit_amount=unit_amount,
        quantity=quantity,
        session_id=None,
    )
    session = gateway().session_create(
        order_ref=str(order.pk),
        order_number=order.number,
        line_items=[
            LineItem(name=item.name, unit_amount=item.unit_amount, quantity=item.quantity)
            for item in order.items.all()
        ],
        currency=order.currency,
        customer_email=order.customer_email,
        expires_at=timezone.now() + expires_in,
        idempotency_key=f"checkout:{order.pk}",
    )
    fields: dict[str, Any] = {"provider_session_id": session.id, "checkout_url": session.url or ""}
    if age is not None:
        fields["created_at"] = timezone.now() - age
    Order.objects.filter(pk=order.pk).update(**fields)
    if pay_with:
        response = fake.pay(session.id, pay_with)
        assert response.status_code == 200, response.text
        if fulfil:
            paid = gateway().session_retrieve(session_id=session.id)
            assert order_settle(session=paid, source="api").transitioned
    order.refresh_from_db()
    return order
