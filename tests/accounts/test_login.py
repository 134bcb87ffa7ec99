"""Login by username or email: matching rules, the generic refusal, and one lock-out per account."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.conftest import ME, TOKEN
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.throttle_rates import set_throttle_rates

pytestmark = pytest.mark.django_db

WRONG = {"code": "authentication_failed", "message": "No active account found with the given credentials"}


def login(client: APIClient, username: str, password: str = DEFAULT_PASSWORD, address: int = 1) -> Any:
    return client.post(
        TOKEN, {"username": username, "password": password}, REMOTE_ADDR=f"198.51.100.{address}"
    )


@pytest.fixture
def asha(db: None) -> User:
    return UserFactory.create(username="asha", email="Asha.Rao@Example.com")


@pytest.mark.parametrize(
    "identifier",
    ["asha", "Asha.Rao@Example.com", "asha.rao@example.com", "ASHA.RAO@EXAMPLE.COM", "ASHA"],
    ids=["username", "email-as-stored", "email-lower", "email-upper", "username-other-case"],
)
def test_login_by_username_or_email_in_any_case(api_client: APIClient, asha: User, identifier: str) -> None:
    # when
    response = login(api_client, identifier)

    # then: the tokens are asha's
    assert response.status_code == 200, response.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get(ME).json()["id"] == asha.pk
    asha.refresh_from_db()
    assert asha.last_login is not None


@pytest.mark.parametrize(
    "identifier", ["asha", "asha.rao@example.com", "nobody", "nobody@example.com", "x" * 300]
)
def test_a_wrong_password_or_an_unknown_name_is_the_same_401(
    api_client: APIClient, asha: User, identifier: str
) -> None:
    # when
    response = login(api_client, identifier, password="not-the-password")

    # then: nothing says whether the account exists
    assert response.status_code == 401
    assert response.json() == {**WRONG, "fields": {}}


def test_login_bad_input_names_the_fields(api_client: APIClient) -> None:
    # when
    response = api_client.post(TOKEN, {"username": "", "password": ""})

    # then
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "password"}


def test_an_email_typed_as_someone_elses_username_still_signs_in_the_owner(api_client: APIClient) -> None:
    # given: a second account whose *username* is the first account's email address
    owner = UserFactory.create(username="owner", email="owner@example.com")
    UserFactory.create(username="owner@example.com", email="squatter@example.com")

    # when
    response = login(api_client, "owner@example.com")

    # then: the email wins; the squatter's name does not capture the owner's login
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get(ME).json()["id"] == owner.pk


@pytest.mark.postgres_only
def test_an_email_two_accounts_share_signs_in_neither(api_client: APIClient) -> None:
    # given: the unique index removed (inside this test's transaction, rolled back after it), and
    # two accounts with one address, the way an imported database could have them
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX accounts_user_email_ci_unique")
    first = UserFactory.create(username="first", email="shared@example.com")
    UserFactory.create(username="second", email="Shared@example.com")

    # when: the right password of one of them, by the shared email
    response = login(api_client, "shared@example.com")

    # then: refused exactly like a wrong password; the username still works
    assert response.status_code == 401
    assert response.json() == {**WRONG, "fields": {}}
    assert login(api_client, first.username).status_code == 200


def test_the_lock_out_counts_an_account_once_whichever_name_it_is_given(
    settings: SettingsWrapper, api_client: APIClient, asha: User
) -> None:
    # given: a lock-out after 3 failures, a generous per-address rate
    set_throttle_rates(settings, auth_login="1000/min")
    settings.LOGIN_LOCKOUT_FAILURES = 3

    # when: three failures, alternating the username and the email in two cases
    failures = [
        login(api_client, name, password="wrong", address=i).status_code
        for i, name in enumerate(["asha", "asha.rao@example.com", "ASHA.RAO@example.com"])
    ]

    # then: one account, three failures: locked whatever it is called, even with the right password
    assert failures == [401, 401, 401]
    for name in ("asha", "Asha.Rao@Example.com", "ASHA"):
        locked = login(api_client, name, address=50)
        assert locked.status_code == 429, name
        assert locked.json()["code"] == "throttled"
        assert int(locked["Retry-After"]) > 0


def test_two_failures_by_email_and_a_success_by_username_reset_the_count(
    settings: SettingsWrapper, api_client: APIClient, asha: User
) -> None:
    # given
    set_throttle_rates(settings, auth_login="1000/min")
    settings.LOGIN_LOCKOUT_FAILURES = 3
    assert [login(api_client, "asha.rao@example.com", password="wrong").status_code for _ in range(2)] == [
        401,
        401,
    ]

    # when
    success = login(api_client, "asha")

    # then: the failures are forgotten for both names
    assert success.status_code == 200
    assert [login(api_client, "asha.rao@example.com", password="wrong").status_code for _ in range(2)] == [
        401,
        401,
    ]
    assert login(api_client, "asha").status_code == 200
