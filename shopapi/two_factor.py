"""Staff two-factor authentication (django-otp): who must use it, and the token check at admin login.

- A staff user with a confirmed device (a TOTP authenticator app, or a one-use static code from
  `manage.py addstatictoken`) must give its token at every admin login, whatever the setting.
- With `ADMIN_REQUIRE_2FA` on, whoever may refund (`checkout.refund_order`, so every superuser)
  must have verified a token: the login refuses them otherwise, and the admin site refuses a
  session that logged in without one (`second_factor_missing`).

A verified login stores its device in the session (django-otp's `user_logged_in` receiver);
`django_otp.middleware.OTPMiddleware` puts it back on `request.user.otp_device` on every request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

REQUIRED_MESSAGE = (
    "Two-factor authentication is required for staff who can refund; "
    "ask an administrator to set up your authenticator."
)


def second_factor_required(user: Any) -> bool:
    """Whether `user` may use the admin only after verifying a token (refunders, when required)."""
    return bool(settings.ADMIN_REQUIRE_2FA) and bool(user.has_perm(settings.ADMIN_2FA_PERMISSION))


def second_factor_missing(user: Any) -> bool:
    """True for a user who must verify a token and whose session has not (OTPMiddleware sets it)."""
    return second_factor_required(user) and getattr(user, "otp_device", None) is None


def second_factor_check(user: Any, token: str) -> None:
    """Check the login's token for `user` (whose password was right); sets `user.otp_device`.

    Raises ValidationError when a token is needed and missing or wrong, or when the user must
    have a device and has none. A 6- or 8-digit token is checked against the user's TOTP devices,
    anything else against their static codes.
    """
    user.otp_device = None
    token = "".join(token.split())
    totp_devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
    static_devices = StaticDevice.objects.devices_for_user(user, confirmed=True)
    if not (totp_devices.exists() or static_devices.exists()):
        if second_factor_required(user):
            raise ValidationError(REQUIRED_MESSAGE, code="otp_required")
        return
    if not token:
        raise ValidationError("Enter the code from your authenticator app.", code="otp_token_required")
    candidates = totp_devices if token.isdigit() else static_devices
    # A failed try is counted on the device (its own throttle): commit it, then raise outside.
    with transaction.atomic():
        user.otp_device = next(
            (device for device in candidates.select_for_update() if device.verify_token(token)), None
        )
    if user.otp_device is None:
        raise ValidationError("Invalid authenticator code.", code="otp_token_invalid")
