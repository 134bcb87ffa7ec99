"""Outages: a lost database answers 503 `service_unavailable`; a lost cache lets throttles fail open."""

from __future__ import annotations

import logging
import uuid
from typing import Any, NoReturn

import psycopg
import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


class BrokenCache(LocMemCache):
    """A cache whose server is unreachable, as redis-py reports it."""

    def _down(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise redis.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    get = set = add = incr = delete = delete_many = get_many = set_many = touch = has_key = _down


def _database_down(monkeypatch: pytest.MonkeyPatch, cause: Exception | None = None) -> None:
    def execute(self: CursorWrapper, *args: Any, **kwargs: Any) -> NoReturn:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused") from cause

    monkeypatch.setattr(CursorWrapper, "execute", execute)


def test_database_outage_is_503_with_retry_after_and_no_traceback(
    auth_client: APIClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    _database_down(monkeypatch)

    # when
    with caplog.at_level(logging.WARNING):
        response = auth_client.get("/api/v1/auth/me/")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "code": "service_unavailable",
        "message": "The service is temporarily unavailable; retry later.",
        "fields": {},
    }
    assert int(response["Retry-After"]) > 0
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert any("database unavailable" in r.getMessage() for r in caplog.records)


def test_a_query_error_that_is_no_outage_stays_500(
    auth_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the server answered, with a deadlock
    _database_down(monkeypatch, cause=psycopg.errors.DeadlockDetected("deadlock detected"))

    # when
    response = auth_client.get("/api/v1/auth/me/")

    # then
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_database_outage_outside_the_api_is_503(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the admin login (plain Django, answered by handler500)
    client = Client(raise_request_exception=False)
    _database_down(monkeypatch)

    # when
    response = client.post("/admin/login/", {"username": user.username, "password": DEFAULT_PASSWORD})

    # then
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0


def test_cache_outage_lets_login_register_and_checkout_through(
    settings: SettingsWrapper, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    settings.CACHES = {"default": {"BACKEND": "tests.test_outages.BrokenCache"}}
    api_client = APIClient()

    # when
    with caplog.at_level(logging.WARNING, logger="shopapi.throttling"):
        login = api_client.post(
            "/api/v1/auth/token/", {"username": user.username, "password": DEFAULT_PASSWORD}
        )
        wrong = api_client.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"})
        register = api_client.post(
            "/api/v1/auth/register/",
            {"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"},
        )
        taken = api_client.post(
            "/api/v1/auth/register/",
            {"username": "asha2", "email": "asha@example.com", "password": "a-long-passphrase-42"},
        )
        checkout = client_for(user).post(f"/api/v1/carts/{uuid.uuid4()}/checkout/")

    # then
    assert (login.status_code, wrong.status_code, register.status_code) == (200, 401, 201)
    assert taken.status_code == 400
    assert checkout.status_code == 404
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cache unavailable, throttle checkout skipped" in m for m in warnings)
    assert any("cache unavailable, login lock-out skipped" in m for m in warnings)
