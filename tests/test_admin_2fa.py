"""Staff two-factor authentication: the admin login's OTP token and `ADMIN_REQUIRE_2FA` for refunders."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import SettingsWrapper

from accounts.models import User
from shopapi.throttling import login_lockout_wait
from shopapi.two_factor import REQUIRED_MESSAGE
from tests.checkout.backoffice import admin_client_for, make_order, staff_user
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def refunder() -> User:
    return staff_user("checkout.view_order", "checkout.refund_order")


@pytest.fixture
def require_2fa(settings: SettingsWrapper) -> None:
    settings.ADMIN_REQUIRE_2FA = True


def device_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def token_of(device: TOTPDevice) -> str:
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def login(client: Client, user: User, token: str = "") -> Any:
    return client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD, "otp_token": token})


def refund_page(client: Client) -> Any:
    return client.get(reverse("admin:checkout_order_refund", args=[make_order().pk]))


@pytest.mark.usefixtures("require_2fa")
@pytest.mark.parametrize("superuser", [False, True], ids=["refunder", "superuser"])
def test_a_refunder_without_a_device_is_refused(superuser: bool) -> None:
    # given
    user = staff_user(superuser=superuser) if superuser else staff_user("checkout.refund_order")
    client = Client()

    # when
    response = login(client, user, token="123456")

    # then
    assert response.status_code == 200
    assert REQUIRED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("require_2fa")
@pytest.mark.parametrize("token", ["", "000000"], ids=["no-token", "wrong-token"])
def test_a_refunder_with_a_device_and_a_wrong_token_is_refused_and_counted(
    settings: SettingsWrapper, refunder: User, token: str
) -> None:
    # given: one failure locks the username out
    settings.LOGIN_LOCKOUT_FAILURES = 1
    device = device_for(refunder)
    token = token if token != token_of(device) else "111111"
    client = Client()
    assert login_lockout_wait(refunder.username) == 0

    # when
    response = login(client, refunder, token=token)

    # then
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert login_lockout_wait(refunder.username) > 0
    # and the right token is refused too while the lock-out lasts
    locked_out = login(client, refunder, token=token_of(device))
    assert b"Too many failed logins" in locked_out.content
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("require_2fa")
def test_a_refunder_with_the_right_token_gets_in_and_can_refund(refunder: User) -> None:
    # given
    device = device_for(refunder)
    client = Client()

    # when
    response = login(client, refunder, token=token_of(device))

    # then
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(refunder.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert refund_page(client).status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_a_static_code_from_addstatictoken_lets_a_refunder_in_once(refunder: User) -> None:
    # given: the bootstrap code README describes
    out = StringIO()
    call_command("addstatictoken", refunder.username, stdout=out)
    code = out.getvalue().strip()

    # when
    first, second = Client(), Client()
    login(first, refunder, token=code)
    login(second, refunder, token=code)

    # then
    assert refund_page(first).status_code == 200
    assert "_auth_user_id" not in second.session


@pytest.mark.usefixtures("require_2fa")
def test_staff_who_cannot_refund_log_in_without_a_token() -> None:
    # given
    viewer = staff_user("checkout.view_order")
    client = Client()

    # when
    form = client.get(LOGIN)
    response = login(client, viewer)

    # then: the form offers the token, it is not needed
    assert b'name="otp_token"' in form.content
    assert response.status_code == 302
    assert client.get(reverse("admin:checkout_order_changelist")).status_code == 200


def test_a_session_without_a_token_is_refused_once_2fa_is_required(
    settings: SettingsWrapper, refunder: User
) -> None:
    # given: logged in (as the existing admin tests do) while 2FA was not required
    settings.ADMIN_REQUIRE_2FA = False
    client = admin_client_for(refunder)
    assert refund_page(client).status_code == 200
    password_only = Client()
    assert login(password_only, refunder).status_code == 302

    # when
    settings.ADMIN_REQUIRE_2FA = True
    old_session = refund_page(client)
    login_again = login(Client(), refunder)

    # then
    assert old_session.status_code == 302
    assert old_session["Location"].startswith(LOGIN)
    assert refund_page(password_only).status_code == 302
    assert REQUIRED_MESSAGE in login_again.content.decode()
