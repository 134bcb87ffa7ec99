"""Accounts: register, token, refresh with rotation, logout, me, throttling."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


def _tokens(api_client: APIClient, user: User) -> dict:
    response = api_client.post(TOKEN, {"username": user.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def test_register_creates_user_and_hides_password(api_client: APIClient) -> None:
    # when
    response = api_client.post(
        REGISTER, {"username": "asha", "email": "Asha@Example.com", "password": "a-long-passphrase-42"}
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "access", "refresh"}
    assert (body["username"], body["email"]) == ("asha", "Asha@example.com")
    user = get_user_model().objects.get(pk=body["id"])
    assert user.check_password("a-long-passphrase-42")
    assert user.email == "Asha@example.com"
    assert user.last_login is not None
    assert user.email_verified_at is None


def test_register_signs_the_buyer_in_at_once(api_client: APIClient) -> None:
    # given
    body = api_client.post(
        REGISTER, {"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"}
    ).json()

    # when: the answer's tokens are used as they are
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = api_client.get(ME)
    refreshed = APIClient().post(REFRESH, {"refresh": body["refresh"]})

    # then
    assert me.status_code == 200
    assert me.json() == {
        "id": body["id"],
        "username": "asha",
        "email": "asha@example.com",
        "email_verified": False,
    }
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com", "password": "a-long-passphrase-42"}, "username"),
        ({"username": "x", "password": "a-long-passphrase-42"}, "email"),
        ({"username": "x", "email": "not-an-email", "password": "a-long-passphrase-42"}, "email"),
        ({"username": "x", "email": "x@example.com"}, "password"),
        ({"username": "x", "email": "x@example.com", "password": "short"}, "password"),
        ({"username": "x", "email": "x@example.com", "password": "password123"}, "password"),
        ({"username": "x", "email": "x@example.com", "password": "12345678901"}, "password"),
        ({"username": "bad name!", "email": "x@example.com", "password": "a-long-passphrase-42"}, "username"),
    ],
)
def test_register_bad_input_names_the_field(
    api_client: APIClient, payload: dict[str, str], field: str
) -> None:
    response = api_client.post(REGISTER, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"]
    assert get_user_model().objects.count() == 0


def test_register_duplicate_username_and_email_case_insensitive(api_client: APIClient) -> None:
    # given
    UserFactory(username="asha", email="asha@example.com")
    # when
    by_name = api_client.post(
        REGISTER, {"username": "ASHA", "email": "new@example.com", "password": "a-long-passphrase-42"}
    )
    by_email = api_client.post(
        REGISTER, {"username": "other", "email": "ASHA@example.com", "password": "a-long-passphrase-42"}
    )
    # then
    assert by_name.status_code == 400
    assert "username" in by_name.json()["fields"]
    assert by_email.status_code == 400
    assert "email" in by_email.json()["fields"]
    assert get_user_model().objects.count() == 1


def test_email_uniqueness_is_a_database_constraint(db: None) -> None:
    from django.db import IntegrityError, transaction

    UserFactory(email="same@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="SAME@example.com")


def test_token_and_me(api_client: APIClient, user: User) -> None:
    tokens = _tokens(api_client, user)
    assert set(tokens) == {"access", "refresh"}
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api_client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "email_verified": False,
    }


def test_token_wrong_password_is_401_in_error_shape(api_client: APIClient, user: User) -> None:
    response = api_client.post(TOKEN, {"username": user.username, "password": "wrong"})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "fields"}


def test_token_missing_fields_is_400(api_client: APIClient) -> None:
    response = api_client.post(TOKEN, {})
    assert response.status_code == 400
    assert {"username", "password"} <= set(response.json()["fields"])


def test_me_unauthenticated_is_401(api_client: APIClient) -> None:
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_with_garbage_token_is_401(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert api_client.get(ME).status_code == 401


def test_refresh_rotates_and_blacklists_the_old_refresh(api_client: APIClient, user: User) -> None:
    # given
    old = _tokens(api_client, user)["refresh"]
    # when
    response = api_client.post(REFRESH, {"refresh": old})
    # then
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != old
    assert api_client.post(REFRESH, {"refresh": old}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": new["refresh"]}).status_code == 200


def test_refresh_bad_input(api_client: APIClient) -> None:
    assert api_client.post(REFRESH, {}).status_code == 400
    assert api_client.post(REFRESH, {"refresh": "garbage"}).status_code == 401


def test_logout_blacklists_the_refresh(api_client: APIClient, user: User) -> None:
    # given
    refresh = _tokens(api_client, user)["refresh"]
    # when
    response = api_client.post(LOGOUT, {"refresh": refresh})
    # then
    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401
    assert api_client.post(LOGOUT, {"refresh": refresh}).status_code == 401


def test_logout_bad_input(api_client: APIClient) -> None:
    assert api_client.post(LOGOUT, {}).status_code == 400
    assert api_client.post(LOGOUT, {"refresh": "garbage"}).status_code == 401


@override_settings(
    REST_FRAMEWORK={
        **__import__("django.conf").conf.settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_login": "3/min", "auth_register": "2/min"},
    }
)
def test_login_and_register_are_throttled_with_retry_after(api_client: APIClient, user: User) -> None:
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    api_settings.reload()
    # The stubs type DEFAULT_THROTTLE_RATES as numbers; the rates are strings ("3/min").
    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
    try:
        statuses = [
            api_client.post(TOKEN, {"username": user.username, "password": "wrong"}).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        throttled = api_client.post(TOKEN, {"username": user.username, "password": DEFAULT_PASSWORD})
        assert throttled.status_code == 429
        assert int(throttled["Retry-After"]) > 0
        assert throttled.json()["code"] == "throttled"

        payload = {"username": "n{}", "email": "n{}@example.com", "password": "a-long-passphrase-42"}
        codes = [
            api_client.post(REGISTER, {k: v.format(i) for k, v in payload.items()}).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
    finally:
        api_settings.reload()
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
