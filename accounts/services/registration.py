"""Registration: the account, signed in at once, and its email verification sent."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from accounts.services.verification import email_verification_send


def user_register(*, username: str, email: str, password: str) -> User:
    """Create a customer account and mail it its verification link once committed.

    A race on a unique name or email is a 400, not a 500. The account counts as signed in (its
    caller answers with tokens), so `last_login` is set.
    """
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=email, password=password, last_login=timezone.now()
            )
            email_verification_send(user=user)
            return user
    except IntegrityError as exc:
        field = "email" if "email" in str(exc).lower() else "username"
        raise serializers.ValidationError({field: [f"A user with that {field} already exists."]}) from exc
