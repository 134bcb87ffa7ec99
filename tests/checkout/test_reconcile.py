"""Reconciliation makes a lost webhook harmless: pending orders are settled from what Stripe says.

Real Checkout Sessions at fakestripe, webhooks never delivered (no webhook URL is configured),
`payments_reconcile` / `manage.py reconcile_payments` run against them.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any, cast

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from checkout.management.commands.reconcile_payments import parse_duration
from checkout.models import Cart, Order
from checkout.services.reconcile import ReconcileSummary, payments_reconcile
from payments.stripe import api as stripe_gateway
from tests.checkout.backoffice import CARD_ASYNC, stripe_order
from tests.checkout.conftest import post_event, run_concurrently, stripe_events
from tests.stripe_fixtures import FakeStripeServer

pytestmark = pytest.mark.django_db

S = Order.Status
OLD = timedelta(minutes=20)


def reconcile(**kwargs: Any) -> ReconcileSummary:
    return payments_reconcile(older_than=kwargs.pop("older_than", timedelta(minutes=15)), **kwargs)


def transitions(order: Order) -> list[tuple[str, str, str]]:
    return list(order.events.filter(source="reconcile").values_list("from_status", "to_status", "source"))


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- the lost webhook


def test_paid_session_with_lost_webhook_becomes_paid_once(stripe_env: FakeStripeServer) -> None:
    # given: the customer paid; the webhook never arrived and nobody called confirm
    order = stripe_order(stripe_env, fulfil=False, age=OLD)
    assert order.status == S.PENDING
    assert stripe_env.events(type="checkout.session.completed")[0]["delivered"] is False

    # when
    first = reconcile()

    # then
    order.refresh_from_db()
    assert order.status == S.PAID
    assert order.paid_at is not None
    assert order.payment_id.startswith("pi_")
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.CHECKED_OUT
    assert transitions(order) == [("pending", "paid", "reconcile")]
    assert str(first) == "checked 1, paid 1, expired 0, left open 0, errors 0"

    # when: cron runs again
    second = reconcile()

    # then: nothing left to do, nothing changed
    assert str(second) == "checked 0, paid 0, expired 0, left open 0, errors 0"
    assert order.events.count() == 2  # created (api) + the one reconcile transition


def test_the_late_webhook_after_reconcile_changes_nothing(
    stripe_env: FakeStripeServer, api_client: APIClient
) -> None:
    # given
    order = stripe_order(stripe_env, fulfil=False, age=OLD)
    reconcile()
    [completed] = stripe_events(stripe_env, "checkout.session.completed")

    # when: the lost webhook finally arrives
    response = post_event(api_client, completed)

    # then
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == S.PAID
    assert order.events.filter(to_status="paid").count() == 1


def test_orders_younger_than_the_threshold_are_not_checked(stripe_env: FakeStripeServer) -> None:
    # given: paid a minute ago; the webhook may still be on its way
    order = stripe_order(stripe_env, fulfil=False, age=timedelta(minutes=1))

    # when
    summary = reconcile(older_than=timedelta(minutes=15))

    # then
    assert summary.checked == 0
    order.refresh_from_db()
    assert order.status == S.PENDING


# --------------------------------------------------------------------------- other session states


def test_session_expired_at_stripe_expires_the_order(stripe_env: FakeStripeServer) -> None:
    # given: Stripe's clock passes the session's expiry, so Stripe says `expired`
    order = stripe_order(stripe_env, pay_with=None, age=OLD)
    stripe_env.advance_clock(2 * 3600)

    # when
    summary = reconcile()

    # then
    order.refresh_from_db()
    assert order.status == S.EXPIRED
    assert transitions(order) == [("pending", "expired", "reconcile")]
    assert (summary.expired, summary.errors) == (1, 0)


def test_open_session_past_its_expiry_is_expired_at_stripe_first(stripe_env: FakeStripeServer) -> None:
    # given: Stripe's clock lags ours, so Stripe still says `open` after the session's expires_at
    stripe_env.advance_clock(-3600)
    order = stripe_order(stripe_env, pay_with=None, age=OLD, expires_in=timedelta(minutes=-25))
    before = stripe_gateway.checkout_session_retrieve(session_id=cast(str, order.provider_session_id))
    assert before.status == "open"

    # when
    summary = reconcile()

    # then: expired at Stripe (so it can no longer be paid) and here
    after = stripe_gateway.checkout_session_retrieve(session_id=cast(str, order.provider_session_id))
    assert after.status == "expired"
    assert stripe_env.pay(cast(str, order.provider_session_id)).status_code == 400
    order.refresh_from_db()
    assert order.status == S.EXPIRED
    assert transitions(order) == [("pending", "expired", "reconcile")]
    assert summary.expired == 1


def test_open_session_not_yet_expired_is_left_alone(stripe_env: FakeStripeServer) -> None:
    # given
    order = stripe_order(stripe_env, pay_with=None, age=OLD)

    # when
    summary = reconcile()

    # then
    assert str(summary) == "checked 1, paid 0, expired 0, left open 1, errors 0"
    assert (
        stripe_gateway.checkout_session_retrieve(session_id=cast(str, order.provider_session_id)).status
        == "open"
    )
    order.refresh_from_db()
    assert order.status == S.PENDING
    assert transitions(order) == []


def test_complete_but_unpaid_session_awaits_the_async_payment(stripe_env: FakeStripeServer) -> None:
    # given: an async payment method; Stripe says complete + unpaid
    order = stripe_order(stripe_env, pay_with=CARD_ASYNC, fulfil=False, age=OLD)

    # when
    summary = reconcile()

    # then
    assert summary.left_open == 1
    order.refresh_from_db()
    assert order.status == S.PENDING

    # when: the payment settles, the webhook is lost again, cron runs
    stripe_env.settle(cast(str, order.provider_session_id), "succeeded")
    summary = reconcile()

    # then
    assert summary.paid == 1
    order.refresh_from_db()
    assert order.status == S.PAID


# --------------------------------------------------------------------------- failures


def test_stripe_down_for_one_order_is_counted_and_the_run_continues(
    settings: SettingsWrapper, stripe_env: FakeStripeServer
) -> None:
    # given: two lost webhooks; Stripe fails the very next request (the older order's)
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    first = stripe_order(stripe_env, fulfil=False, age=timedelta(minutes=40))
    second = stripe_order(stripe_env, fulfil=False, age=timedelta(minutes=30))
    stripe_env.faults(fail_next=1, status=500)

    # when
    summary = reconcile()

    # then
    assert str(summary) == "checked 2, paid 1, expired 0, left open 0, errors 1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.PENDING, S.PAID)

    # when: the next run, Stripe is back
    assert reconcile().paid == 1

    # then
    first.refresh_from_db()
    assert first.status == S.PAID


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_transition_each_order_once(stripe_env: FakeStripeServer) -> None:
    # given: three lost webhooks
    orders = [stripe_order(stripe_env, fulfil=False, age=OLD) for _ in range(3)]

    # when: four cron runs at the same moment on "different machines"
    summaries = run_concurrently([reconcile] * 4, workers=4)

    # then
    assert sum(s.paid for s in summaries) == 3
    assert sum(s.errors for s in summaries) == 0
    for order in orders:
        order.refresh_from_db()
        assert order.status == S.PAID
        assert order.events.filter(to_status="paid").count() == 1


# --------------------------------------------------------------------------- the command


def test_command_prints_the_summary_and_no_progress_bar_off_a_terminal(stripe_env: FakeStripeServer) -> None:
    # given
    stripe_order(stripe_env, fulfil=False, age=timedelta(hours=3))
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("reconcile_payments", "--older-than", "2h", stdout=out, stderr=err)

    # then
    assert out.getvalue().strip() == "checked 1, paid 1, expired 0, left open 0, errors 0"
    assert err.getvalue() == ""


def test_command_draws_a_progress_bar_on_a_terminal(stripe_env: FakeStripeServer) -> None:
    # given
    for _ in range(2):
        stripe_order(stripe_env, pay_with=None, age=OLD)
    out, err = io.StringIO(), TTY()

    # when
    call_command("reconcile_payments", stdout=out, stderr=err)

    # then
    assert "\r[" in err.getvalue()
    assert "] 2/2" in err.getvalue()
    assert out.getvalue().strip() == "checked 2, paid 0, expired 0, left open 2, errors 0"


def test_command_fails_when_an_order_could_not_be_reconciled(
    settings: SettingsWrapper, stripe_env: FakeStripeServer
) -> None:
    # given
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    order = stripe_order(stripe_env, fulfil=False, age=OLD)
    stripe_env.faults(fail_next=1, status=500)
    out = io.StringIO()

    # when
    with pytest.raises(CommandError) as exc:
        call_command("reconcile_payments", stdout=out, stderr=io.StringIO())

    # then
    assert exc.value.returncode != 0
    assert out.getvalue().strip() == "checked 1, paid 0, expired 0, left open 0, errors 1"
    order.refresh_from_db()
    assert order.status == S.PENDING


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("0s", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["15", "m", "1w", "-5m", "1.5h", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(CommandError):
        call_command("reconcile_payments", "--older-than", text, stdout=io.StringIO())
