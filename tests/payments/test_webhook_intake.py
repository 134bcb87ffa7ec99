"""The webhook intake's first delivery: one insert that decides "first or replay", few statements,
exactly once under concurrent deliveries, the cart's lock taken with the order's read, and stock
sold only where there is stock to sell.

Events are the real ones fakestripe emitted for real checkouts, posted with the test client and a
signature built as Stripe builds it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any, cast
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import ProductVariant, StockMovement, StockReservation
from catalog.stock import stock_set
from checkout.locks import lock_cart, lock_cart_of_order
from checkout.models import Cart, Order, OrderEvent
from notifications import jobs
from notifications.models import OutboxEvent
from payments.models import ProviderEvent
from payments.webhooks import WebhookOutcome, webhook_receive
from tests.checkout.backoffice import make_order
from tests.checkout.conftest import (  # noqa: F401  (fixtures)
    CARD_OK,
    checkout_url,
    make_cart,
    post_event,
    run_concurrently,
    session_event,
    sign,
    stripe_env,
)
from tests.checkout.stock_helpers import cart_with, sized_product
from tests.conftest import client_for
from tests.stripe_fixtures import FakeStripeServer, fakestripe, fakestripe_server  # noqa: F401

COMPLETED = "checkout.session.completed"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _checkout(user: User, cart: Cart) -> Order:
    body = client_for(user).post(checkout_url(cart)).json()
    return Order.objects.get(pk=body["order_id"])


def _paid_event(fake: FakeStripeServer, order: Order) -> dict[str, Any]:
    session_id = cast(str, order.provider_session_id)
    assert fake.pay(session_id, CARD_OK).status_code == 200
    return session_event(fake, COMPLETED, session_id)


def _signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    return payload, {"Stripe-Signature": sign(payload)}


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """Each captured statement as its verb and table (a SELECT's: its last FROM's, past any
    subquery in its columns), BEGIN and COMMIT as they are."""
    kinds = []
    for query in ctx.captured_queries:
        sql = query["sql"].strip()
        verb = sql.split(None, 1)[0]
        tables = re.findall(r'(?:\bFROM|^INSERT INTO|^UPDATE)\s+"?(\w+)"?', sql)
        kinds.append(f"{verb} {tables[-1] if verb == 'SELECT' else tables[0]}" if tables else sql)
    return kinds


@pytest.mark.postgres_only  # row locks and PostgreSQL's statements
@pytest.mark.django_db(transaction=True)  # the intake's own transaction, not a test savepoint
def test_a_first_delivery_is_one_transaction_of_seven_statements_and_a_replay_one_insert(
    stripe_env: FakeStripeServer,  # noqa: F811
    user: User,
) -> None:
    # given: a pending order of untracked products, paid at the provider
    order = _checkout(user, make_cart(user, lines=3))
    event = _paid_event(stripe_env, order)
    payload, headers = _signed(event)

    # when: (the outbox's dispatch job, which eager mode would run at the commit, is not run)
    with mock.patch.object(jobs, "_later"), CaptureQueriesContext(connection) as first_ctx:
        first = webhook_receive(payload=payload, headers=headers)
    with mock.patch.object(jobs, "_later"), CaptureQueriesContext(connection) as again_ctx:
        again = webhook_receive(payload=payload, headers=headers)

    # then: the event row (insert-or-nothing), the order read with its cart locked, the order
    # paid, its event, its lines (nothing to sell: no variant is locked), the outbox row, the
    # cart checked out; one commit. A replay inserts nothing and does nothing else.
    assert _statements(first_ctx) == [
        "BEGIN",
        "INSERT payments_providerevent",
        "SELECT checkout_order",
        "UPDATE checkout_order",
        "INSERT checkout_orderevent",
        "SELECT checkout_orderitem",
        "INSERT notifications_outboxevent",
        "UPDATE checkout_cart",
        "COMMIT",
    ]
    lock = first_ctx.captured_queries[2]["sql"]
    assert 'JOIN "checkout_cart" c ' in lock
    assert lock.endswith("FOR UPDATE OF c")
    assert _statements(again_ctx) == ["BEGIN", "INSERT payments_providerevent", "COMMIT"]
    assert (first.outcome, again.outcome) == (WebhookOutcome.PROCESSED, WebhookOutcome.DUPLICATE)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.CHECKED_OUT
    assert OutboxEvent.objects.filter(order=order, type="order.paid").count() == 1
    row = ProviderEvent.objects.get()
    assert (row.event_id, row.type, row.payload) == (event["id"], COMPLETED, event)
    assert row.processed_at is not None
    assert row.processed_at == row.received_at


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgres_only  # PostgreSQL's prepared statements
@pytest.mark.django_db(transaction=True)  # the intake's own transaction: its commit keeps them
def test_a_delivery_runs_prepared_statements_and_the_next_one_prepares_nothing_new(
    stripe_env: FakeStripeServer,  # noqa: F811
    user: User,
    other_user: User,
) -> None:
    # given: two pending orders paid at the provider, and a connection that prepared nothing
    orders = [_checkout(buyer, make_cart(buyer, lines=2)) for buyer in (user, other_user)]
    events = [_signed(_paid_event(stripe_env, order)) for order in orders]
    connection.close()

    # when: the first event, then the second (and a replay of it)
    with mock.patch.object(jobs, "_later"), CaptureQueriesContext(connection) as first_ctx:
        webhook_receive(payload=events[0][0], headers=events[0][1])
    after_first = _prepared_statements()
    with mock.patch.object(jobs, "_later"):
        webhook_receive(payload=events[1][0], headers=events[1][1])
        replay = webhook_receive(payload=events[1][0], headers=events[1][1])

    # then: each statement of the first delivery was prepared (its SQL has server-side
    # placeholders); the second and the replay reused them; both orders are paid
    statements = [q["sql"] for q in first_ctx.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(statements) == 7
    assert statements[0].startswith("INSERT INTO payments_providerevent")
    assert all(sql.strip() in {prepared.strip() for prepared in after_first} for sql in statements)
    assert _prepared_statements() == after_first
    assert replay.outcome is WebhookOutcome.DUPLICATE
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {
        "paid"
    }


@pytest.mark.postgres_only  # PostgreSQL's prepared statements
@pytest.mark.django_db(transaction=True)
def test_the_jobs_run_at_the_commit_are_not_prepared(
    stripe_env: FakeStripeServer,  # noqa: F811
    user: User,
) -> None:
    # given: eager jobs (no broker: the outbox dispatch runs at the commit, on this thread)
    order = _checkout(user, make_cart(user))
    payload, headers = _signed(_paid_event(stripe_env, order))
    connection.close()

    # when
    webhook_receive(payload=payload, headers=headers)

    # then: the delivery's statements were prepared, the dispatch's (it locks its row with
    # SKIP LOCKED) ran with the connection's own cursors after the block
    prepared = _prepared_statements()
    assert any(sql.startswith("INSERT INTO payments_providerevent") for sql in prepared)
    assert not [sql for sql in prepared if "SKIP LOCKED" in sql]
    assert OutboxEvent.objects.get(order=order).dispatched_at is not None


@pytest.mark.django_db
def test_an_ignored_event_is_recorded_once_and_processed(stripe_env: FakeStripeServer) -> None:  # noqa: F811
    # given
    event = {
        "id": "evt_other_1",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "c"}},
    }
    payload, headers = _signed(event)

    # when
    outcomes = [webhook_receive(payload=payload, headers=headers).outcome for _ in range(2)]

    # then
    assert outcomes == [WebhookOutcome.IGNORED, WebhookOutcome.DUPLICATE]
    row = ProviderEvent.objects.get()
    assert (row.event_id, row.payload, row.processed_at is not None) == ("evt_other_1", event, True)


@pytest.mark.postgres_only  # row locks and PostgreSQL's statements
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_settle_it_once(
    stripe_env: FakeStripeServer,  # noqa: F811
    user: User,
) -> None:
    # given
    order = _checkout(user, make_cart(user))
    event = _paid_event(stripe_env, order)

    # when: the same event delivered four times at once
    answers = run_concurrently([lambda: post_event(APIClient(), event).json() for _ in range(4)], workers=4)

    # then: the unique index let exactly one in; the others waited for its commit and saw it
    assert sorted(answers, key=len) == [{"received": True}] + [{"received": True, "duplicate": True}] * 3
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert OutboxEvent.objects.filter(order=order).count() == 1
    assert ProviderEvent.objects.filter(event_id=event["id"]).count() == 1


@pytest.mark.postgres_only  # row locks and PostgreSQL's statements
@pytest.mark.django_db(transaction=True)
def test_a_paid_event_waits_for_the_cart_lock(stripe_env: FakeStripeServer, user: User) -> None:  # noqa: F811
    # given: a paid session, and another flow holding the order's cart
    order = _checkout(user, make_cart(user))
    event = _paid_event(stripe_env, order)
    holding, release = threading.Event(), threading.Event()
    answers: list[int] = []

    def hold_the_cart() -> None:
        try:
            with transaction.atomic():
                lock_cart(order.cart_id)
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def deliver() -> None:
        try:
            answers.append(post_event(APIClient(), event).status_code)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_cart)
    holder.start()
    assert holding.wait(timeout=10)

    # when: the event arrives while the cart is held
    sender = threading.Thread(target=deliver)
    sender.start()
    waited = _wait_for_lock_wait()

    # then: it waits on the lock, the order still pending; once released, it pays
    assert waited
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING
    release.set()
    holder.join(timeout=10)
    sender.join(timeout=10)
    assert answers == [200]
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def _wait_for_lock_wait(seconds: float = 10.0) -> bool:
    """True once another backend of this database waits on a row lock."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)  # autocommit: no transaction around the test
def test_lock_cart_of_order_outside_a_transaction_is_refused(user: User) -> None:
    # given
    order = make_order(user)

    # when / then: a lock outside a transaction would end with its statement
    with pytest.raises(TransactionManagementError):
        lock_cart_of_order(order.pk)


@pytest.mark.django_db
def test_lock_cart_of_order_reads_the_order_and_names_no_other(user: User) -> None:
    # given: an order with every kind of column set (JSON, timestamps, a foreign key, a UUID)
    order = make_order(user, status=Order.Status.PAID)
    Order.objects.filter(pk=order.pk).update(
        shipping_address={"name": "Asha", "country": "IN", "line1": "MG Road 1"},
        checkout_options={"shipping_options": [{"ref": "1", "name": "Post", "amount": 900}]},
        session_unclear_since=timezone.now(),
    )
    expected = Order.objects.get(pk=order.pk)

    # when
    with transaction.atomic():
        by_uuid = lock_cart_of_order(order.pk)
        by_text = lock_cart_of_order(str(order.pk))
        unknown = lock_cart_of_order("00000000-0000-0000-0000-000000000000")
        malformed = lock_cart_of_order("not-a-uuid")

    # then: the order as the ORM reads it, field by field; an unknown or malformed id is no order
    for read in (by_uuid, by_text):
        assert read is not None
        assert not read._state.adding
        for field in Order._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert (unknown, malformed) == (None, None)


@pytest.mark.django_db
def test_tracked_lines_are_sold_when_paid(stripe_env: FakeStripeServer, user: User) -> None:  # noqa: F811
    # given: a tracked size and an untracked one in one order
    _, variants = sized_product(stock={"S": 5, "M": None})
    order = _checkout(user, cart_with(user, (variants["S"], 2), (variants["M"], 1)))
    assert StockReservation.objects.get(order=order).status == StockReservation.Status.HELD

    # when
    post_event(APIClient(), _paid_event(stripe_env, order))

    # then: the tracked size left the stock, its hold is a sale; the untracked one is untouched
    assert ProductVariant.objects.get(pk=variants["S"].pk).stock_on_hand == 3
    assert ProductVariant.objects.get(pk=variants["M"].pk).stock_on_hand is None
    assert StockReservation.objects.get(order=order).status == StockReservation.Status.SOLD
    assert StockMovement.objects.filter(order_id=order.pk, reason=StockMovement.Reason.SALE).count() == 1


@pytest.mark.django_db
def test_a_hold_on_a_variant_no_longer_tracked_is_still_settled(
    stripe_env: FakeStripeServer,  # noqa: F811
    user: User,
) -> None:
    # given: the order held a tracked size, then staff stopped tracking it before the payment
    _, variants = sized_product(stock={"S": 5})
    order = _checkout(user, cart_with(user, (variants["S"], 2)))
    stock_set(variant_id=variants["S"].pk, on_hand=None, actor="staff")

    # when
    post_event(APIClient(), _paid_event(stripe_env, order))

    # then: no line is tracked, but the hold is settled as a sale (it no longer holds anything)
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert StockReservation.objects.get(order=order).status == StockReservation.Status.SOLD
    assert not StockMovement.objects.filter(order_id=order.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "obj",
    [
        {"id": "cus_1", "nested": [{"deep": "a\x00b"}]},  # a NUL in a nested value
        {"id": "cus_1", "k\x00": "v"},  # in a key
    ],
)
def test_an_event_carrying_a_nul_is_refused_and_recorded_nowhere(
    stripe_env: FakeStripeServer,  # noqa: F811
    obj: dict[str, Any],
) -> None:
    # given: signed, so only the reading refuses it (PostgreSQL's jsonb cannot store a NUL)
    event = {"id": "evt_nul_1", "object": "event", "type": "customer.created", "data": {"object": obj}}

    # when
    response = post_event(APIClient(), event)

    # then
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


@pytest.mark.django_db
def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(stripe_env: FakeStripeServer) -> None:  # noqa: F811
    # given: the characters \u0000 as text (the raw body holds "\\u0000")
    event = {
        "id": "evt_text_1",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "\\u0000"}},
    }

    # when
    response = post_event(APIClient(), event)

    # then
    assert response.json() == {"received": True, "ignored": True}
    assert ProviderEvent.objects.get().payload["data"]["object"]["id"] == "\\u0000"
