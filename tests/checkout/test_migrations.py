"""Migrating a database of the previous schema to provider-neutral names keeps every row and right."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("checkout", "0001_initial"), ("accounts", "0001_initial")]


def test_orders_events_and_provider_events_survive_the_rename() -> None:
    # given: the schema before the move, with an order, its event, a provider event and a permission
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="before", email="b@example.com")
    cart = old.get_model("checkout", "Cart").objects.create(user=user, status="checked_out")
    order = old.get_model("checkout", "Order").objects.create(
        number="SA-MIGRATE1",
        user=user,
        cart=cart,
        status="paid",
        currency="inr",
        total_amount=149_900,
        stripe_session_id="cs_test_before",
        stripe_payment_intent_id="pi_test_before",
        content_fingerprint="f" * 64,
    )
    old.get_model("checkout", "OrderEvent").objects.create(
        order=order, from_status="pending", to_status="paid", source="webhook", stripe_event_id="evt_before"
    )
    old.get_model("checkout", "StripeEvent").objects.create(
        event_id="evt_before", type="checkout.session.completed", payload={"id": "evt_before"}
    )
    content_types = old.get_model("contenttypes", "ContentType")
    permission = old.get_model("auth", "Permission")
    event_type, _ = content_types.objects.get_or_create(app_label="checkout", model="stripeevent")
    view_events, _ = permission.objects.get_or_create(
        content_type=event_type, codename="view_stripeevent", defaults={"name": "Can view stripe event"}
    )
    user.user_permissions.add(view_events)

    # when
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then
    from accounts.models import User
    from checkout.models import Order, OrderEvent
    from payments.models import ProviderEvent

    migrated = Order.objects.get(number="SA-MIGRATE1")
    assert (migrated.provider_session_id, migrated.payment_id, migrated.total_amount) == (
        "cs_test_before",
        "pi_test_before",
        149_900,
    )
    assert OrderEvent.objects.get(order=migrated).provider_event_id == "evt_before"
    assert ProviderEvent.objects.get(event_id="evt_before").payload == {"id": "evt_before"}
    assert User.objects.get(pk=user.pk).has_perm("payments.view_providerevent")
