"""A key's life: 5xx answers released, running keys answered 409, dead ones taken over, old ones purged."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Product
from checkout.models import Cart
from idempotency.models import IdempotencyKey
from idempotency.services import idempotency_key_claim
from tests.conftest import client_for
from tests.idempotency.conftest import KEY, ViewRuns, add, quantity_in
from tests.throttle_rates import set_throttle_rates

pytestmark = [pytest.mark.postgres_only]


def _database_fails_once_on(monkeypatch: pytest.MonkeyPatch, statement: str) -> list[str]:
    """The first SQL statement containing `statement` fails as if the server had gone; the rest run."""
    real = CursorWrapper.execute
    failed: list[str] = []

    def execute(self: CursorWrapper, sql: str, params: Any = None) -> Any:
        if not failed and statement in sql:
            failed.append(sql)
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return real(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", execute)
    return failed


@pytest.mark.django_db
def test_a_5xx_is_not_kept_and_the_retry_runs_and_succeeds_once(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the database fails once, while the view writes the line
    failed = _database_fails_once_on(monkeypatch, 'INSERT INTO "checkout_cartitem"')
    first = add(auth_client, cart, product, key=KEY)
    assert failed
    assert first.status_code == 503
    assert first.json()["code"] == "service_unavailable"
    assert not IdempotencyKey.objects.exists(), "a 5xx answer releases the key"

    # when
    retry = add(auth_client, cart, product, key=KEY)
    again = add(auth_client, cart, product, key=KEY)

    # then
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (201, retry.content, "true")
    assert view_runs.count == 2
    assert quantity_in(cart) == 1


@pytest.mark.django_db
def test_a_throttled_answer_is_not_kept(api_client: APIClient, settings: SettingsWrapper) -> None:
    # given: register allows one attempt per address
    set_throttle_rates(settings, auth_register="1/min")
    body = {"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"}
    api_client.post("/api/v1/auth/register/", {**body, "username": "x", "email": "x@example.com"})

    # when
    throttled = api_client.post("/api/v1/auth/register/", body, HTTP_IDEMPOTENCY_KEY=KEY)
    kept_after_throttle = IdempotencyKey.objects.exists()
    cache.clear()  # the throttle window passes
    retry = api_client.post("/api/v1/auth/register/", body, HTTP_IDEMPOTENCY_KEY=KEY)

    # then: nothing ran, nothing was kept; once the window passed the same key ran
    assert throttled.status_code == 429
    assert not kept_after_throttle
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert User.objects.filter(username="asha").exists()


@pytest.mark.django_db
def test_a_key_whose_process_died_is_taken_over_after_the_lock_timeout(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns, settings: SettingsWrapper
) -> None:
    # given: a key left "in progress" (its process died after the view ran, before the answer was kept)
    settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = 60
    assert add(auth_client, cart, product, key=KEY).status_code == 201
    locked_at = timezone.now()
    IdempotencyKey.objects.update(lock=uuid.uuid4(), locked_at=locked_at, status_code=None)

    # when: a retry within the lock timeout, then one after it
    early = add(auth_client, cart, product, key=KEY)
    IdempotencyKey.objects.update(locked_at=locked_at - timedelta(seconds=61))
    late = add(auth_client, cart, product, key=KEY)

    # then
    assert early.status_code == 409
    assert early.json()["code"] == "idempotency_key_in_progress"
    assert early["Retry-After"] == "1"
    assert late.status_code == 201
    assert "Idempotent-Replayed" not in late
    assert view_runs.count == 2
    row = IdempotencyKey.objects.get()
    assert (row.status_code, row.lock, row.locked_at) == (201, None, None)


@pytest.mark.django_db
def test_an_expired_key_is_ignored_and_runs_again(
    auth_client: APIClient, cart: Cart, product: Product, view_runs: ViewRuns, settings: SettingsWrapper
) -> None:
    # given: a key answered 25 hours ago
    settings.IDEMPOTENCY_TTL_HOURS = 24
    assert add(auth_client, cart, product, key=KEY).status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    # when: the same request, then another one, with the key
    again = add(auth_client, cart, product, key=KEY)
    other = add(auth_client, cart, product, key=KEY, quantity=2)

    # then: a new key from the first of them on
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert other.status_code == 422
    assert view_runs.count == 2
    assert quantity_in(cart) == 2
    assert IdempotencyKey.objects.get().created_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.django_db
def test_the_purge_command_deletes_expired_keys_only(
    auth_client: APIClient, cart: Cart, product: Product, settings: SettingsWrapper
) -> None:
    # given: three keys, two of them older than the TTL
    settings.IDEMPOTENCY_TTL_HOURS = 24
    for key in ("old-1", "old-2", "fresh"):
        assert add(auth_client, cart, product, key=key).status_code == 201
    day_ago = timezone.now() - timedelta(hours=25)
    IdempotencyKey.objects.filter(key__startswith="old").update(created_at=day_ago)
    out = StringIO()

    # when
    call_command("purge_idempotency_keys", stdout=out)

    # then
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert out.getvalue().strip() == "purged 2 idempotency key(s) older than 24 h"


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_is_running_is_409_and_after_it_a_replay(
    user: User, cart: Cart, product: Product, view_runs: ViewRuns
) -> None:
    """The key's row is committed before the view runs: another connection sees it at once.

    Were the insert part of the view's transaction, the second insert would wait on the unique
    index until the first request finished, and this test would hang instead of answering 409.
    """
    # given: the first request is inside the view, held there
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        assert release.wait(timeout=30)

    view_runs.before = hold
    answers: list[Any] = []

    def first_request() -> None:
        try:
            answers.append(add(client_for(user), cart, product, key=KEY))
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    assert inside.wait(timeout=30)
    view_runs.before = lambda: None

    # when
    try:
        during = add(client_for(user), cart, product, key=KEY)
        reused = add(client_for(user), cart, product, key=KEY, quantity=3)
    finally:
        release.set()
        thread.join(timeout=30)
    after = add(client_for(user), cart, product, key=KEY)

    # then
    assert during.status_code == 409
    assert during.json()["code"] == "idempotency_key_in_progress"
    assert during["Retry-After"] == "1"
    assert reused.status_code == 422
    assert [a.status_code for a in answers] == [201]
    assert (after.status_code, after.content) == (201, answers[0].content)
    assert after["Idempotent-Replayed"] == "true"
    assert view_runs.count == 1
    assert quantity_in(cart) == 1


@pytest.mark.django_db
def test_a_database_outage_before_the_view_is_a_503_and_nothing_ran(
    auth_client: APIClient,
    cart: Cart,
    product: Product,
    view_runs: ViewRuns,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given: the database is unreachable when the key is claimed
    failed = _database_fails_once_on(monkeypatch, 'INSERT INTO "idempotency_idempotencykey"')

    # when
    with caplog.at_level(logging.WARNING):
        response = add(auth_client, cart, product, key=KEY)

    # then: the API's outage answer, logged in one line without a traceback
    assert failed
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    assert view_runs.count == 0
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


@pytest.mark.django_db(transaction=True)
def test_the_key_is_never_inserted_inside_someone_elses_transaction() -> None:
    # given: a transaction opened around the claim (as if the middleware ran inside a view's atomic block)
    # when / then: refused loudly, since the row would not be visible to other processes until it ends
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        idempotency_key_claim(scope="user:1", key=KEY, fingerprint="f" * 64)
    assert not IdempotencyKey.objects.exists()
