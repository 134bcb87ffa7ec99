"""Admin building blocks shared by the apps, and the throttled admin login.

The admin login is limited like the API's (shopapi/throttling.py): per client address
(`THROTTLE_ADMIN_LOGIN`) and by the per-username lock-out, and every failure is logged. It asks for
the staff member's "OTP token" too (shopapi/two_factor.py); a wrong or missing token is a failed
login. `ShopAdminSite` is `admin.site` (shopapi/apps.py): this form, and no admin for a refunder
whose session has not verified a token while `ADMIN_REQUIRE_2FA` is on.
"""

from __future__ import annotations

import logging
import math
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from rest_framework.request import Request

from shopapi.client_ip import client_ip
from shopapi.errors import ErrorCode
from shopapi.throttling import AddressRateThrottle, login_failed, login_lockout_wait, login_succeeded
from shopapi.two_factor import second_factor_check, second_factor_missing

logger = logging.getLogger(__name__)


class AdminLoginThrottle(AddressRateThrottle):
    scope = "admin_login"


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, refusing before the password is checked when a limit is reached."""

    otp_token = forms.CharField(
        label="OTP token",
        required=False,
        help_text="The code from your authenticator app, if you have one.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        request = cast(HttpRequest, self.request)
        username = str(self.cleaned_data.get("username") or "")
        address = client_ip(request)
        throttle = AdminLoginThrottle()
        # The throttle reads only the request's addresses, which an HttpRequest has too.
        if not throttle.allow_request(cast(Request, request), cast(Any, None)):
            self._refuse(throttle.wait() or 1, username, address)
        wait = login_lockout_wait(username)
        if wait > 0:
            self._refuse(wait, username, address)
        try:
            cleaned = super().clean()
            second_factor_check(self.get_user(), str(cleaned.get("otp_token") or ""))
        except ValidationError:
            logger.warning("admin login failed for %r from %s", username, address)
            login_failed(username, address=address)
            raise
        login_succeeded(username)
        return cleaned

    def _refuse(self, wait: float, username: str, address: str) -> None:
        logger.warning("admin login refused for %r from %s: throttled", username, address)
        raise ValidationError(
            "Too many failed logins. Try again in %(seconds)d seconds.",
            code=ErrorCode.THROTTLED,
            params={"seconds": math.ceil(wait)},
        )


class ShopAdminSite(admin.AdminSite):
    """The admin site: the throttled, two-factor login form; 2FA enforced when required."""

    login_form = ThrottledAdminAuthenticationForm
    login_template = "admin/shop_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not second_factor_missing(request.user)


class ReadOnlyPermissionsMixin:
    """For admin pages and inlines that only show rows: no add, change or delete, for anyone.

    Orders, their items and events, carts and payment provider events are records of what happened; staff
    read them (and refund through the refund page), never edit them.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
