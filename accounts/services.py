"""Account writes: registration."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from rest_framework import serializers

from accounts.models import User


def user_register(*, username: str, email: str, password: str) -> User:
    """Create a customer account. A race on a unique name or email is a 400, not a 500."""
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:
        field = "email" if "email" in str(exc).lower() else "username"
        raise serializers.ValidationError({field: [f"A user with that {field} already exists."]}) from exc
