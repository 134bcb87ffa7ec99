"""The admin login: throttled per client address, locked out per username, failures logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from accounts.models import User
from shopapi.admin import ThrottledAdminAuthenticationForm
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.throttle_rates import set_throttle_rates

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def staff() -> User:
    return UserFactory.create(username="boss", is_staff=True, is_superuser=True)


def _login(client: Client, password: str, address: str) -> Any:
    return client.post(LOGIN, {"username": "boss", "password": password}, REMOTE_ADDR=address)


def test_the_admin_uses_the_throttled_form() -> None:
    assert admin.site.login_form is ThrottledAdminAuthenticationForm


def test_admin_login_locks_out_the_username_and_logs_failures(
    settings: SettingsWrapper,
    staff: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    set_throttle_rates(settings, admin_login="1000/min")
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 30
    now = [1_000_000.0]
    monkeypatch.setattr("shopapi.throttling.time.time", lambda: now[0])
    client = Client()

    # when: wrong passwords from many addresses, then the right one
    with caplog.at_level(logging.WARNING, logger="shopapi.admin"):
        wrong = [_login(client, "wrong", f"198.51.100.{i}").status_code for i in range(3)]
        right = _login(client, DEFAULT_PASSWORD, "198.51.100.50")

    # then: the right password is refused too, nobody is signed in, every failure is logged
    assert wrong == [200, 200, 200]  # the form again, with its error
    assert right.status_code == 200
    assert b"Too many failed logins. Try again in 30 seconds." in right.content
    assert "_auth_user_id" not in client.session
    failures = [r.getMessage() for r in caplog.records if "admin login failed" in r.getMessage()]
    assert len(failures) == 3

    # when: the wait is over
    now[0] += 31
    response = _login(client, DEFAULT_PASSWORD, "198.51.100.51")

    # then
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_admin_login_is_throttled_per_address(settings: SettingsWrapper, staff: User) -> None:
    # given
    set_throttle_rates(settings, admin_login="2/min")
    client = Client()

    # when
    for _ in range(2):
        _login(client, "wrong", "203.0.113.7")
    response = client.post(
        LOGIN,
        {"username": "boss", "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )

    # then
    assert response.status_code == 200
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session
