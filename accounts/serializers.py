"""Serializers of the account endpoints: what each accepts, and the shape of what it answers."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.models import User
from accounts.selectors import users_by_email, users_by_username_ci
from shopapi.errors import ErrorCode

PASSWORD_STYLE = {"input_type": "password"}


class UserSerializer(serializers.ModelSerializer[User]):
    email_verified = serializers.BooleanField(
        read_only=True, help_text="Whether the owner opened the verification link sent to `email`."
    )

    class Meta:
        model = User
        fields = ["id", "username", "email", "email_verified"]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer[User]):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style=PASSWORD_STYLE)

    def validate_username(self, value: str) -> str:
        field = User._meta.get_field("username")
        for validator in field.validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(list(exc.messages)) from exc
        if users_by_username_ci(value).exists():
            raise serializers.ValidationError("A user with that username already exists.", code="unique")
        return value

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if users_by_email(value).exists():
            raise serializers.ValidationError("A user with that email already exists.", code="unique")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class RegisteredSerializer(serializers.Serializer[Any]):
    """What register answers: the new account, already signed in (documentation only)."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


@extend_schema_serializer(component_name="TokenObtainPair")
class LoginSerializer(TokenObtainPairSerializer):
    """Sign in with the username or the email address (any case), and the password."""

    # The view resolves whom the identifier names (accounts/selectors.py `login_username`) for the
    # lock-out before anything else, and passes it here in the context as `login_username`.

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field].help_text = "The username, or the email address (any case)."

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        username = self.context.get("login_username", attrs[self.username_field])
        if username is None:
            # An email several accounts share: refused like a wrong password, after the same hashing.
            make_password(attrs["password"])
        else:
            with contextlib.suppress(exceptions.AuthenticationFailed):
                return super().validate({**attrs, self.username_field: username})
        # simplejwt's own code for this, "no_active_account", is not one of the published codes.
        raise exceptions.AuthenticationFailed(
            self.error_messages["no_active_account"], code=ErrorCode.AUTHENTICATION_FAILED
        )


class LogoutSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer[Any]):
    """What token and refresh answer with (documentation only)."""

    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class PasswordChangeSerializer(serializers.Serializer[Any]):
    old_password = serializers.CharField(write_only=True, max_length=128, style=PASSWORD_STYLE)
    new_password = serializers.CharField(
        write_only=True, max_length=128, style=PASSWORD_STYLE, help_text="Checked by the password rules."
    )


class PasswordResetSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)

    def validate_email(self, value: str) -> str:
        return User.objects.normalize_email(value)


class PasswordResetConfirmSerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=64, help_text="`uid` from the emailed link.")
    token = serializers.CharField(max_length=128, help_text="`token` from the emailed link.")
    new_password = serializers.CharField(
        write_only=True, max_length=128, style=PASSWORD_STYLE, help_text="Checked by the password rules."
    )


class EmailVerifySerializer(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=512, help_text="`token` from the emailed link.")


class DetailSerializer(serializers.Serializer[Any]):
    """A sentence for people (documentation only)."""

    detail = serializers.CharField(read_only=True)
