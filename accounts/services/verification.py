"""Email verification: a signed link mailed to the address; opening it records the proof.

The token is `django.core.signing` (HMAC with SECRET_KEY, salted for this one purpose, so no other
signed value of the project verifies an email) over the user's id and a digest of the address:
it proves the holder read mail at that address, stops working after
`EMAIL_VERIFICATION_MAX_AGE_DAYS`, and verifies nothing once the account's address changes. No
row stores it. Verifying twice is harmless (the first time is kept).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.emails import email_render, email_send_after_commit, frontend_link
from accounts.models import User
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError

SALT = "accounts.email-verification"


def _email_digest(email: str) -> str:
    # The address itself stays out of the link (links end up in logs and browser histories).
    return salted_hmac(f"{SALT}.email", email.casefold(), algorithm="sha256").hexdigest()[:24]


def email_verification_token(user: User) -> str:
    """A signed, timestamped token for `user`'s current address."""
    return signing.dumps({"u": user.pk, "e": _email_digest(user.email)}, salt=SALT)


def email_verification_send(*, user: User) -> None:
    """Mail `user` the link to verify their address, once the transaction commits."""
    link = frontend_link(settings.EMAIL_VERIFICATION_URL, token=email_verification_token(user))
    context = {
        "username": user.get_username(),
        "email": user.email,
        "link": link,
        "valid_days": settings.EMAIL_VERIFICATION_MAX_AGE_DAYS,
    }
    email_send_after_commit(email_render(template="verify_email", to=user.email, context=context))


def email_verification_resend(*, user: User) -> None:
    """Mail the link again; 409 `email_already_verified` when there is nothing to verify."""
    if user.email_verified:
        raise ConflictError("This email address is already verified.", code=ErrorCode.EMAIL_ALREADY_VERIFIED)
    email_verification_send(user=user)


def _invalid() -> DomainError:
    return DomainError(
        "This verification link is invalid.", code=ErrorCode.EMAIL_VERIFICATION_INVALID, field="token"
    )


def email_verification_confirm(*, token: str) -> User:
    """Record that the token's account owns its address; the account.

    400 `email_verification_expired` for a genuine token past its age (ask for a new one),
    400 `email_verification_invalid` for anything else: tampered, for another address, unknown or
    inactive account.
    """
    max_age = timedelta(days=settings.EMAIL_VERIFICATION_MAX_AGE_DAYS)
    try:
        payload: Any = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise DomainError(
            "This verification link has expired; ask for a new one.",
            code=ErrorCode.EMAIL_VERIFICATION_EXPIRED,
            field="token",
        ) from exc
    except signing.BadSignature as exc:
        raise _invalid() from exc
    user_id, digest = (payload.get("u"), payload.get("e")) if isinstance(payload, dict) else (None, None)
    if not isinstance(user_id, int) or not isinstance(digest, str):
        raise _invalid()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(digest, _email_digest(user.email)):
        raise _invalid()
    # Conditional: the first verification's time is kept.
    User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(email_verified_at=timezone.now())
    user.refresh_from_db(fields=["email_verified_at"])
    return user
