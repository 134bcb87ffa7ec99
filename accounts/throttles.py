"""The account endpoints' rate limits (rates in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

The login lock-out (per account, whatever it is called by) lives in shopapi/throttling.py with
the admin's; these are the per-address, per-user and per-mailbox request budgets.
"""

from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.views import APIView

from shopapi.throttling import AddressRateThrottle, GlobalRateThrottle, RateThrottle, UserRateThrottle


class RegisterThrottle(AddressRateThrottle):
    scope = "auth_register"


class RegisterTakenThrottle(GlobalRateThrottle):
    """How many "already taken" answers register gives, to everyone together (enumeration)."""

    scope = "auth_register_taken"


class LoginThrottle(AddressRateThrottle):
    scope = "auth_login"


class PasswordResetThrottle(AddressRateThrottle):
    scope = "auth_password_reset"


class PasswordResetEmailThrottle(RateThrottle):
    """Reset requests for one email address, from anyone: bounds the mail one mailbox receives.

    Counted alike whether or not an account has the address, so its 429 tells nothing either.
    """

    scope = "auth_password_reset_email"

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email

    def get_cache_key(self, request: Request, view: APIView) -> str:
        digest = hashlib.sha256(self.email.casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class EmailVerifyResendThrottle(UserRateThrottle):
    scope = "auth_email_verify_resend"
