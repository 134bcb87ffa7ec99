"""Password change: the new pair, every other refresh token revoked, bad input, the lock-out."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.conftest import ME, NEW_PASSWORD, PASSWORD_CHANGE, REFRESH, TOKEN
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.throttle_rates import set_throttle_rates

pytestmark = pytest.mark.django_db


def sign_in(user: User, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    response = APIClient().post(TOKEN, {"username": user.username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def test_change_answers_a_fresh_pair_and_revokes_every_other_refresh_token(user: User) -> None:
    # given: the user signed in on two devices
    phone, laptop = sign_in(user), sign_in(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")

    # when
    response = client.post(PASSWORD_CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})

    # then: a new pair that works
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    fresh_client = APIClient()
    fresh_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert fresh_client.get(ME).json()["id"] == user.pk
    assert APIClient().post(REFRESH, {"refresh": fresh["refresh"]}).status_code == 200
    # the refresh tokens of both devices no longer work
    for old in (phone, laptop):
        refused = APIClient().post(REFRESH, {"refresh": old["refresh"]})
        assert refused.status_code == 401
        assert refused.json()["code"] == "token_not_valid"
    # the password is the new one
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert (
        APIClient().post(TOKEN, {"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 401
    )


def test_change_unauthenticated_is_401(api_client: APIClient, user: User) -> None:
    # when
    response = api_client.post(
        PASSWORD_CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"old_password", "new_password"}),
        ({"old_password": DEFAULT_PASSWORD}, {"new_password"}),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "short"}, {"new_password"}),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "password123"}, {"new_password"}),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "12345678901"}, {"new_password"}),
        ({"old_password": "not-my-password", "new_password": NEW_PASSWORD}, {"old_password"}),
    ],
    ids=["empty", "no-new", "too-short", "common", "numeric", "wrong-old"],
)
def test_change_bad_input_names_the_field_and_changes_nothing(
    user: User, payload: dict[str, str], fields: set[str]
) -> None:
    # given
    refresh = sign_in(user)["refresh"]

    # when
    response = client_for(user).post(PASSWORD_CHANGE, payload)

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == fields
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert APIClient().post(REFRESH, {"refresh": refresh}).status_code == 200


def test_new_password_too_like_the_username_is_refused(api_client: APIClient) -> None:
    # given
    user = UserFactory.create(username="marigoldsunshine", email="m@example.com")

    # when
    response = client_for(user).post(
        PASSWORD_CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": "marigoldsunshine1"}
    )

    # then
    assert response.status_code == 400
    assert "new_password" in response.json()["fields"]


def test_wrong_old_passwords_count_towards_the_login_lock_out(settings: SettingsWrapper, user: User) -> None:
    # given: a lock-out after 2 failures
    set_throttle_rates(settings, auth_login="1000/min")
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = client_for(user)
    wrong = {"old_password": "guess", "new_password": NEW_PASSWORD}

    # when: someone holding an access token guesses the password
    statuses = [client.post(PASSWORD_CHANGE, wrong).status_code for _ in range(2)]

    # then: the account is locked, here and at login, even for the right password
    assert statuses == [400, 400]
    right = {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post(PASSWORD_CHANGE, right).status_code == 429
    assert APIClient().post(TOKEN, {"username": user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
