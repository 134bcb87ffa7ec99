"""Passwords: change (signed in, knowing the old one) and reset by an emailed link (signed out).

Both end the same way: every refresh token the user still held is blacklisted
(accounts/services/tokens.py), so whoever had one (a stolen phone, a shared computer) is signed
out at its next refresh. A change answers with a fresh pair for the device that made it.

Reset cannot be used to learn who has an account: `password_reset_request` does the same work for
any address (look it up, make a token, render an email, send it after commit) and its caller
answers the same 202. An address with no resettable account gets an email too, saying so (the
person who owns the mailbox learns it, the person who asked does not). The link carries Django's
`default_token_generator` token: it hashes the password and the last login, so it stops working
as soon as the password changes (it works once) or after `PASSWORD_RESET_TIMEOUT_MINUTES`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.emails import email_render, email_send_after_commit, frontend_link
from accounts.models import User
from accounts.selectors import user_for_password_reset
from accounts.services.tokens import refresh_tokens_revoke_all, tokens_issue
from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError

RESET_INVALID = "This password reset link is invalid, expired or already used; ask for a new one."


class OldPasswordIncorrect(DomainError):
    """The old password given to a change is wrong (its caller counts it as a failed login)."""

    default_code = ErrorCode.VALIDATION_ERROR
    default_message = "Your old password was entered incorrectly."

    def __init__(self) -> None:
        super().__init__(field="old_password")


def password_validate(password: str, *, user: User) -> None:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS) for `user`; a 400 naming `new_password`."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise DomainError(
            "Invalid input.", code=ErrorCode.VALIDATION_ERROR, fields={"new_password": list(exc.messages)}
        ) from exc


def password_change(*, user: User, old_password: str, new_password: str) -> dict[str, str]:
    """Set a new password; every other refresh token is revoked; a fresh pair for this device."""
    password_validate(new_password, user=user)
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.check_password(old_password):
            raise OldPasswordIncorrect()
        locked.set_password(new_password)
        locked.save(update_fields=["password"])
        refresh_tokens_revoke_all(user_id=locked.pk)
        return tokens_issue(user=locked)


def password_reset_request(*, email: str) -> None:
    """Mail `email` a reset link, or word that no account there can be reset: the same work."""
    user = user_for_password_reset(email)
    # An unknown address gets an unsaved stand-in, so the token is made and the link built alike.
    subject = user if user is not None else User(email=email)
    link = frontend_link(
        settings.PASSWORD_RESET_URL,
        uid=urlsafe_base64_encode(force_bytes(subject.pk)),
        token=default_token_generator.make_token(subject),
    )
    context = {
        "username": subject.get_username(),
        "email": email,
        "link": link,
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    template = "password_reset" if user is not None else "password_reset_unknown"
    email_send_after_commit(email_render(template=template, to=subject.email, context=context))


def _user_id(uid: str) -> int | None:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    return user_id if user_id > 0 else None


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set the password the emailed link allows; revoke every refresh token; the account.

    The user's row is locked while the token is checked and the password set, so two uses of
    one link at once cannot both succeed. Opening the link proves the address is the user's, so
    the email counts as verified too.
    """
    user_id = _user_id(uid)
    with transaction.atomic(durable=True):
        user = (
            User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
            if user_id is not None
            else None
        )
        if user is None or not default_token_generator.check_token(user, token):
            raise DomainError(RESET_INVALID, code=ErrorCode.PASSWORD_RESET_INVALID, field="token")
        password_validate(new_password, user=user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
            email_verified_at=timezone.now()
        )
        refresh_tokens_revoke_all(user_id=user.pk)
    return user
