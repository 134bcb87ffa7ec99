"""Password reset by email: one answer for every address, a link that works once, tokens revoked."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import passwords
from tests.accounts.conftest import (
    NEW_PASSWORD,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
    TOKEN,
    email_link,
)
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.throttle_rates import set_throttle_rates

pytestmark = pytest.mark.django_db

ANSWER = b'{"detail":"If that address can be used, an email with the next steps is on its way."}'


@pytest.fixture
def generous_rates(settings: SettingsWrapper) -> None:
    set_throttle_rates(settings, auth_password_reset="1000/min", auth_password_reset_email="1000/min")


@pytest.fixture
def ask(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., Any]:
    """POST a reset request; the emails it queued are sent (as after the commit in production)."""

    def post(email: str, address: str = "198.51.100.1", client: APIClient | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (client or APIClient()).post(PASSWORD_RESET, {"email": email}, REMOTE_ADDR=address)

    return post


def sign_in(user: User, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    response = APIClient().post(TOKEN, {"username": user.username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def confirm(params: dict[str, str], new_password: str = NEW_PASSWORD) -> Any:
    return APIClient().post(PASSWORD_RESET_CONFIRM, {**params, "new_password": new_password})


def test_the_emailed_link_sets_the_password_once_and_revokes_every_refresh_token(
    ask: Callable[..., Any], mailoutbox: list[EmailMessage], user: User
) -> None:
    # given: the user is signed in on two devices, and asks for a reset (address in another case)
    devices = [sign_in(user), sign_in(user)]
    assert ask(user.email.upper()).status_code == 202
    (message,) = mailoutbox
    assert message.to == [user.email]
    page, params = email_link(message)
    assert page == "http://localhost:3000/reset-password"
    assert set(params) == {"uid", "token"}

    # when
    response = confirm(params)

    # then: the new password works, the old one does not
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.email_verified_at is not None  # opening the link proved the address
    assert APIClient().post(TOKEN, {"username": user.email, "password": NEW_PASSWORD}).status_code == 200
    # every refresh token held before the reset is refused
    for device in devices:
        refused = APIClient().post(REFRESH, {"refresh": device["refresh"]})
        assert refused.status_code == 401
        assert refused.json()["code"] == "token_not_valid"

    # when: the same link again
    again = confirm(params, new_password="yet-another-passphrase-99")

    # then: refused, and the password stays the one set first
    assert again.status_code == 400
    assert again.json()["code"] == "password_reset_invalid"
    assert set(again.json()["fields"]) == {"token"}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_an_unknown_address_gets_exactly_the_same_answer(
    ask: Callable[..., Any], mailoutbox: list[EmailMessage], user: User
) -> None:
    # when
    known = ask(user.email)
    unknown = ask("nobody-here@example.com")

    # then: status, body and headers are identical, byte for byte (the request id aside)
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, ANSWER)
    headers = [{k: v for k, v in r.headers.items() if k != "X-Request-ID"} for r in (known, unknown)]
    assert headers[0] == headers[1]
    # each mailbox got one email with the same subject: the link, or word there is no account
    assert [m.to for m in mailoutbox] == [[user.email], ["nobody-here@example.com"]]
    assert mailoutbox[0].subject == mailoutbox[1].subject == "Reset your password"
    assert "no account you can reset" in str(mailoutbox[1].body)
    assert "http" not in str(mailoutbox[1].body)


def _spied_calls(email: str, ask: Callable[..., Any]) -> dict[str, int]:
    """How often each step of the reset request ran for `email`."""
    steps = {
        "lookup": (passwords, "user_for_password_reset"),
        "uid": (passwords, "urlsafe_base64_encode"),
        "token": (default_token_generator, "make_token"),
        "link": (passwords, "frontend_link"),
        "render": (passwords, "email_render"),
        "send_after_commit": (passwords, "email_send_after_commit"),
        "send": (EmailMessage, "send"),
    }
    spies = {}
    with mock.patch.object(EmailMessage, "send", autospec=True, side_effect=EmailMessage.send) as send:
        spies["send"] = send
        patchers = {
            name: mock.patch.object(owner, attr, wraps=getattr(owner, attr))
            for name, (owner, attr) in steps.items()
            if name != "send"
        }
        for name, patcher in patchers.items():
            spies[name] = patcher.start()
        try:
            assert ask(email).status_code == 202
        finally:
            for patcher in patchers.values():
                patcher.stop()
    return {name: spy.call_count for name, spy in spies.items()}


def test_known_and_unknown_addresses_do_the_same_work(
    ask: Callable[..., Any], generous_rates: None, user: User
) -> None:
    # given: an inactive account and one without a usable password cannot be reset either
    inactive = UserFactory.create(is_active=False)
    unusable = UserFactory.create()
    unusable.set_unusable_password()
    unusable.save()

    # when
    calls = {
        email: _spied_calls(email, ask)
        for email in (user.email, "nobody-here@example.com", inactive.email, unusable.email)
    }

    # then: every path calls the same steps, once each
    once = dict.fromkeys(["lookup", "uid", "token", "link", "render", "send_after_commit", "send"], 1)
    assert all(counts == once for counts in calls.values()), calls


def test_known_and_unknown_addresses_take_the_same_time(
    ask: Callable[..., Any], generous_rates: None, user: User
) -> None:
    # given: warmed up (templates loaded, connections open)
    for email in (user.email, "nobody-here@example.com"):
        ask(email)

    # when: 21 of each, interleaved so drift hits both alike
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(21):
        for kind, email in (("known", user.email), ("unknown", "nobody-here@example.com")):
            started = time.perf_counter()
            assert ask(email).status_code == 202
            timings[kind].append(time.perf_counter() - started)

    # then: the medians are within noise of each other (generous: 3x + 10 ms, never flaky)
    known, unknown = (statistics.median(timings[kind]) for kind in ("known", "unknown"))
    print(f"\nreset request, median of 21: known {known * 1e3:.2f} ms, unknown {unknown * 1e3:.2f} ms")
    assert unknown <= 3 * known + 0.010
    assert known <= 3 * unknown + 0.010


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "email"), ({"email": ""}, "email"), ({"email": "not-an-email"}, "email")],
)
def test_reset_request_bad_input_names_the_field(
    ask: Callable[..., Any], mailoutbox: list[EmailMessage], payload: dict[str, str], field: str
) -> None:
    # when
    response = APIClient().post(PASSWORD_RESET, payload)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["fields"]) == {field}
    assert mailoutbox == []


def test_a_stale_access_token_does_not_get_in_the_way(
    ask: Callable[..., Any], mailoutbox: list[EmailMessage], user: User
) -> None:
    # given: a signed-out page still sending an old header
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    # when
    response = ask(user.email, client=client)

    # then
    assert response.status_code == 202
    assert len(mailoutbox) == 1


def test_reset_requests_are_throttled_per_client_address(
    settings: SettingsWrapper, ask: Callable[..., Any], mailoutbox: list[EmailMessage]
) -> None:
    # given
    set_throttle_rates(settings, auth_password_reset="2/hour")

    # when: three addresses asked about from one client
    statuses = [ask(f"probe{i}@example.com").status_code for i in range(3)]

    # then
    assert statuses == [202, 202, 429]
    assert len(mailoutbox) == 2
    assert ask("probe9@example.com", address="198.51.100.2").status_code == 202


@pytest.mark.parametrize("exists", [True, False], ids=["account", "no-account"])
def test_reset_requests_are_throttled_per_email_address_alike_for_any_address(
    settings: SettingsWrapper, ask: Callable[..., Any], mailoutbox: list[EmailMessage], exists: bool
) -> None:
    # given
    set_throttle_rates(settings, auth_password_reset="1000/min", auth_password_reset_email="2/hour")
    if exists:
        UserFactory.create(email="target@example.com")

    # when: one mailbox asked about from three client addresses, in any case
    answers = [
        ask(email, address=f"198.51.100.{i}")
        for i, email in enumerate(["target@example.com", "TARGET@example.com", "Target@Example.com"])
    ]

    # then: the same statuses whether or not the account exists; at most 2 emails
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "throttled"
    assert len(mailoutbox) == 2
    assert ask("other@example.com", address="198.51.100.9").status_code == 202


def _link_for(user: User) -> dict[str, str]:
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"uid", "token", "new_password"}),
        ({"uid": "MQ", "token": "x"}, {"new_password"}),
        ({"uid": "", "token": "", "new_password": NEW_PASSWORD}, {"uid", "token"}),
    ],
)
def test_confirm_missing_input_names_the_fields(payload: dict[str, str], fields: set[str]) -> None:
    # when
    response = APIClient().post(PASSWORD_RESET_CONFIRM, payload)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["fields"]) == fields


@pytest.mark.parametrize(
    "tamper",
    [
        lambda link, other: {
            **link,
            "token": link["token"][:-1] + ("0" if link["token"][-1] != "0" else "1"),
        },
        lambda link, other: {**link, "uid": _link_for(other)["uid"]},
        lambda link, other: {**link, "uid": "!!garbage!!"},
        lambda link, other: {**link, "uid": urlsafe_base64_encode(b"99999999999999999999999")},
        lambda link, other: {**link, "token": "1-2"},
    ],
    ids=["token-changed", "another-users-uid", "garbage-uid", "huge-uid", "garbage-token"],
)
def test_confirm_a_tampered_link_is_refused(user: User, other_user: User, tamper: Callable[..., Any]) -> None:
    # when
    response = confirm(tamper(_link_for(user), other_user))

    # then: one answer for every way a link can be wrong
    assert response.status_code == 400
    assert response.json()["code"] == "password_reset_invalid"
    assert set(response.json()["fields"]) == {"token"}
    for account in (user, other_user):
        account.refresh_from_db()
        assert account.check_password(DEFAULT_PASSWORD)


def test_confirm_a_weak_password_names_it_and_keeps_the_link_usable(user: User) -> None:
    # given
    link = _link_for(user)

    # when
    weak = confirm(link, new_password="password123")

    # then
    assert weak.status_code == 400
    assert weak.json()["code"] == "validation_error"
    assert set(weak.json()["fields"]) == {"new_password"}
    assert confirm(link).status_code == 204


def test_confirm_an_expired_link_is_refused(settings: SettingsWrapper, user: User) -> None:
    # given: a link, and the clock past PASSWORD_RESET_TIMEOUT
    link = _link_for(user)
    later = default_token_generator._now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)

    # when
    with mock.patch.object(default_token_generator, "_now", return_value=later):
        response = confirm(link)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "password_reset_invalid"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_confirm_for_a_deactivated_account_is_refused(user: User) -> None:
    # given: the link was sent, then staff deactivated the account
    link = _link_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    # when
    response = confirm(link)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "password_reset_invalid"


def test_a_reset_lifts_the_login_lock_out(settings: SettingsWrapper, user: User) -> None:
    # given: the account locked by someone guessing
    set_throttle_rates(settings, auth_login="1000/min")
    settings.LOGIN_LOCKOUT_FAILURES = 2
    for _ in range(2):
        APIClient().post(TOKEN, {"username": user.username, "password": "guess"})
    assert (
        APIClient().post(TOKEN, {"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 429
    )

    # when: the owner resets the password through the emailed link
    assert confirm(_link_for(user)).status_code == 204

    # then
    assert APIClient().post(TOKEN, {"username": user.username, "password": NEW_PASSWORD}).status_code == 200
