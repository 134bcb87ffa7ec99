"""Email verification: the link sent on register and on request, good, tampered and expired tokens."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services.verification import SALT, email_verification_token
from tests.accounts.conftest import EMAIL_VERIFY, EMAIL_VERIFY_RESEND, ME, REGISTER, email_link
from tests.conftest import client_for
from tests.throttle_rates import set_throttle_rates

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., Any]:
    """Run `call()`; the emails it queued are sent (as after the commit in production)."""

    def run(call: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def verify(token: str) -> Any:
    return APIClient().post(EMAIL_VERIFY, {"token": token})


def me(user: User) -> dict[str, Any]:
    return client_for(user).get(ME).json()


def test_register_mails_a_link_that_verifies_the_address(
    committed: Callable[..., Any], mailoutbox: list[EmailMessage]
) -> None:
    # given
    response = committed(
        lambda: APIClient().post(
            REGISTER, {"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"}
        )
    )
    assert response.status_code == 201
    user = User.objects.get(pk=response.json()["id"])
    assert me(user)["email_verified"] is False
    (message,) = mailoutbox
    assert message.to == ["asha@example.com"]
    assert message.subject == "Confirm your email address"
    page, params = email_link(message)
    assert page == "http://localhost:3000/verify-email"
    assert "asha" not in params["token"]  # the address is not readable in the link

    # when
    verified = verify(params["token"])

    # then
    assert verified.status_code == 204, verified.content
    assert me(user)["email_verified"] is True
    first = User.objects.get(pk=user.pk).email_verified_at
    assert first is not None
    # verifying again is harmless and keeps the first time
    assert verify(params["token"]).status_code == 204
    assert User.objects.get(pk=user.pk).email_verified_at == first


def test_a_failed_registration_mails_nothing(
    committed: Callable[..., Any], mailoutbox: list[EmailMessage]
) -> None:
    # when
    response = committed(
        lambda: APIClient().post(
            REGISTER, {"username": "asha", "email": "asha@example.com", "password": "short"}
        )
    )

    # then
    assert response.status_code == 400
    assert mailoutbox == []


class RelayDownBackend(BaseEmailBackend):
    """An email backend whose relay cannot be reached."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPException("relay down")


@pytest.mark.django_db(transaction=True)
def test_emails_leave_at_the_commit_and_a_failing_relay_fails_nothing(
    settings: SettingsWrapper, mailoutbox: list[EmailMessage], caplog: pytest.LogCaptureFixture
) -> None:
    # given: no test transaction around the request, so the commit is the real one
    def register(name: str) -> Any:
        return APIClient().post(
            REGISTER, {"username": name, "email": f"{name}@example.com", "password": "a-long-passphrase-42"}
        )

    # when
    sent = register("asha")
    settings.EMAIL_BACKEND = f"{__name__}.RelayDownBackend"
    failed = register("ravi")

    # then: the first email left with the commit; the relay failure is logged, the account stays
    assert sent.status_code == 201
    assert [m.to for m in mailoutbox] == [["asha@example.com"]]
    assert failed.status_code == 201
    assert User.objects.filter(username="ravi").exists()
    assert "relay down" in caplog.text


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: "x" + token,
        lambda token: "not-a-token",
        lambda token: signing.dumps({"u": 1, "e": "x"}, salt="another.purpose"),
        lambda token: signing.dumps(["not", "a", "dict"], salt=SALT),
    ],
    ids=["signature-changed", "payload-changed", "garbage", "other-salt", "wrong-shape"],
)
def test_a_tampered_token_is_refused(user: User, tamper: Callable[[str], str]) -> None:
    # when
    response = verify(tamper(email_verification_token(user)))

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "email_verification_invalid"
    assert set(response.json()["fields"]) == {"token"}
    assert me(user)["email_verified"] is False


def test_an_expired_token_is_refused_with_its_own_code(settings: SettingsWrapper, user: User) -> None:
    # given: a token, and the clock one second past EMAIL_VERIFICATION_MAX_AGE_DAYS
    settings.EMAIL_VERIFICATION_MAX_AGE_DAYS = 3
    token = email_verification_token(user)
    later = time.time() + 3 * DAY + 1

    # when (signing reads the clock through the `time` module: patched for these calls only)
    with mock.patch("django.core.signing.time.time", return_value=later):
        expired = verify(token)
    with mock.patch("django.core.signing.time.time", return_value=later - 2):
        still_valid = verify(token)

    # then: the frontend can offer to send a new link
    assert expired.status_code == 400
    assert expired.json()["code"] == "email_verification_expired"
    assert set(expired.json()["fields"]) == {"token"}
    assert still_valid.status_code == 204


def test_a_token_for_a_previous_address_verifies_nothing(user: User) -> None:
    # given: the link was sent, then the account's address changed
    token = email_verification_token(user)
    User.objects.filter(pk=user.pk).update(email="new-address@example.com")

    # when
    response = verify(token)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "email_verification_invalid"
    assert me(user)["email_verified"] is False


@pytest.mark.parametrize("payload", [{}, {"token": ""}])
def test_verify_bad_input_names_the_field(payload: dict[str, str]) -> None:
    # when
    response = APIClient().post(EMAIL_VERIFY, payload)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["fields"]) == {"token"}


def test_resend_mails_a_new_link_that_works(
    committed: Callable[..., Any], mailoutbox: list[EmailMessage], user: User
) -> None:
    # when
    response = committed(lambda: client_for(user).post(EMAIL_VERIFY_RESEND))

    # then
    assert response.status_code == 202
    assert response.json() == {"detail": "A verification link is on its way."}
    (message,) = mailoutbox
    assert message.to == [user.email]
    assert verify(email_link(message)[1]["token"]).status_code == 204
    assert me(user)["email_verified"] is True


def test_resend_unauthenticated_is_401(api_client: APIClient, mailoutbox: list[EmailMessage]) -> None:
    # when
    response = api_client.post(EMAIL_VERIFY_RESEND)

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert mailoutbox == []


def test_resend_for_a_verified_address_is_409(
    committed: Callable[..., Any], mailoutbox: list[EmailMessage], user: User
) -> None:
    # given
    assert verify(email_verification_token(user)).status_code == 204

    # when
    response = committed(lambda: client_for(user).post(EMAIL_VERIFY_RESEND))

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "email_already_verified"
    assert mailoutbox == []


def test_resend_is_throttled_per_user(
    settings: SettingsWrapper, committed: Callable[..., Any], mailoutbox: list[EmailMessage], user: User
) -> None:
    # given
    set_throttle_rates(settings, auth_email_verify_resend="2/hour")
    client = client_for(user)

    # when
    statuses = [committed(lambda: client.post(EMAIL_VERIFY_RESEND)).status_code for _ in range(3)]

    # then
    assert statuses == [202, 202, 429]
    assert len(mailoutbox) == 2
