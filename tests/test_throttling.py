"""Throttles on the real client address, the login lock-out and the "taken" answers of register."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from shopapi.client_ip import client_ip
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.throttle_rates import set_throttle_rates

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
CLIENT = "203.0.113.7"  # not a trusted proxy


# --- the client's address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # A client talking to us directly: its header is its own words.
        (["127.0.0.1"], CLIENT, "198.51.100.1", CLIENT),
        (["127.0.0.1"], CLIENT, "", CLIENT),
        # Through the trusted proxy: the right-most address the proxy did not vouch for.
        (["127.0.0.1"], "127.0.0.1", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        (["127.0.0.1", "10.0.0.2"], "127.0.0.1", "6.6.6.6, 198.51.100.9, 10.0.0.2", "198.51.100.9"),
        (["127.0.0.1"], "127.0.0.1", "", "127.0.0.1"),
        (["127.0.0.1"], "127.0.0.1", "not-an-ip", "127.0.0.1"),
        # "*": any peer is the proxy, no address inside the header is.
        (["*"], "10.1.2.3", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_ip(
    settings: SettingsWrapper, trusted: list[str], remote: str, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- login ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_escape_the_login_throttle(
    settings: SettingsWrapper, api_client: APIClient, user: User
) -> None:
    # given
    set_throttle_rates(settings, auth_login="3/min")

    # when: every attempt claims another address
    statuses = [
        api_client.post(
            TOKEN,
            {"username": f"nobody{i}", "password": "wrong"},
            REMOTE_ADDR=CLIENT,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(5)
    ]

    # then
    assert statuses == [401, 401, 401, 429, 429]
    # a client behind the trusted proxy is counted on its own
    other = api_client.post(
        TOKEN,
        {"username": user.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=f"{CLIENT}, 198.51.100.200",
    )
    assert other.status_code == 200


@pytest.mark.django_db
def test_login_locks_out_a_username_with_doubling_waits_and_resets_on_success(
    settings: SettingsWrapper, api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a generous per-address rate, a lock-out after 3 failures
    set_throttle_rates(settings, auth_login="1000/min")
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 30
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 100
    user = UserFactory.create(username="staffer")
    now = [1_000_000.0]
    monkeypatch.setattr("shopapi.throttling.time.time", lambda: now[0])

    def login(password: str, address: int, username: str = "staffer") -> Any:
        return api_client.post(
            TOKEN, {"username": username, "password": password}, REMOTE_ADDR=f"198.51.100.{address}"
        )

    # when: three wrong passwords, each from another address
    assert [login("wrong", i).status_code for i in range(3)] == [401, 401, 401]

    # then: even the right password waits, from any address; the case of the name does not matter
    locked = login(DEFAULT_PASSWORD, 50, username="STAFFER")
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"
    assert int(locked["Retry-After"]) == 30
    # another account is not affected
    assert login("wrong", 1, username="someone-else").status_code == 401

    # when: the wait is over and it fails again, the next wait doubles
    now[0] += 31
    assert login("wrong", 60).status_code == 401
    assert int(login(DEFAULT_PASSWORD, 61)["Retry-After"]) == 60
    now[0] += 61
    assert login("wrong", 62).status_code == 401
    assert int(login(DEFAULT_PASSWORD, 63)["Retry-After"]) == 100  # capped at the maximum

    # when: the wait is over and the password is right
    now[0] += 101
    assert login(DEFAULT_PASSWORD, 64).status_code == 200

    # then: the failures are forgotten
    assert [login("wrong", 70 + i).status_code for i in range(3)] == [401, 401, 401]
    assert login(DEFAULT_PASSWORD, 80).status_code == 429
    user.refresh_from_db()
    assert user.last_login is not None


# --- register ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_escape_the_register_throttle(
    settings: SettingsWrapper, api_client: APIClient
) -> None:
    # given
    set_throttle_rates(settings, auth_register="2/min")

    # when
    statuses = [
        api_client.post(
            REGISTER,
            {"username": f"new{i}", "email": f"new{i}@example.com", "password": "a-long-passphrase-42"},
            REMOTE_ADDR=CLIENT,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(4)
    ]

    # then
    assert statuses == [201, 201, 429, 429]
    assert User.objects.filter(username__startswith="new").count() == 2


@pytest.mark.django_db
def test_taken_answers_are_rate_limited_for_everyone_together(
    settings: SettingsWrapper, api_client: APIClient
) -> None:
    # given: many addresses, each well within its own rate
    set_throttle_rates(settings, auth_register="100/min", auth_register_taken="2/hour")
    UserFactory.create(username="asha", email="asha@example.com")

    def register(i: int, email: str) -> Any:
        return api_client.post(
            REGISTER,
            {"username": f"probe{i}", "email": email, "password": "a-long-passphrase-42"},
            REMOTE_ADDR=f"198.51.100.{i}",
        )

    # when: "is asha@example.com taken?" from three addresses
    answers = [register(i, "asha@example.com") for i in range(3)]

    # then: the third answer is a 429, not the fact
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[0].json()["fields"] == {"email": ["A user with that email already exists."]}
    assert answers[2].json()["code"] == "throttled"
    assert int(answers[2]["Retry-After"]) > 0
    # other validation errors and new customers are not held up
    assert register(10, "not-an-email").status_code == 400
    assert register(11, "fresh@example.com").status_code == 201
