"""Register, token (by username or email), refresh (rotating), logout, me."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, ErrorDetail
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.models import User
from accounts.selectors import login_username
from accounts.serializers import (
    LoginSerializer,
    LogoutSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.services.registration import user_register
from accounts.services.tokens import tokens_issue
from accounts.throttles import LoginThrottle, RegisterTakenThrottle, RegisterThrottle
from shopapi.client_ip import client_ip
from shopapi.schema import error_responses
from shopapi.throttling import login_failed, login_lockout_check, login_succeeded

# Longer than any username (150) or email (254): nobody to look up.
_MAX_IDENTIFIER = 254


def _says_taken(errors: Mapping[str, Any]) -> bool:
    return any(
        isinstance(detail, ErrorDetail) and detail.code == "unique"
        for field in ("username", "email")
        for detail in errors.get(field, [])
    )


class RegisterView(APIView):
    """Create a customer account, signed in at once: the answer carries its tokens.

    A verification link is emailed to the address (`POST /auth/email/verify/`).
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [RegisterThrottle]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={201: RegisteredSerializer, **error_responses(400, 429)},
        examples=[
            OpenApiExample(
                "New customer",
                value={"username": "asha", "email": "asha@example.com", "password": "a-long-passphrase-42"},
                request_only=True,
            ),
            OpenApiExample(
                "Email taken",
                value={
                    "code": "validation_error",
                    "message": "Invalid input.",
                    "fields": {"email": ["A user with that email already exists."]},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        if not serializer.is_valid():
            if _says_taken(serializer.errors):
                RegisterTakenThrottle().enforce(request, self)
            raise serializers.ValidationError(serializer.errors)
        user = user_register(**serializer.validated_data)
        body = {"id": user.pk, "username": user.username, "email": user.email, **tokens_issue(user=user)}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_token_obtain",
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
    )
)
class TokenView(TokenObtainPairView):
    """Exchange a username or an email address (any case), and a password, for a token pair.

    Throttled per client address. After repeated failures for an account, every attempt for it
    waits (429 with `Retry-After`, the password is not tried), longer after each further failure;
    the failures are counted per account, whether it was named by its username or its email.
    """

    serializer_class = LoginSerializer
    throttle_classes = [LoginThrottle]
    resolved_username: str | None = ""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data
        identifier = str(data.get("username") or "") if isinstance(data, Mapping) else ""
        if len(identifier) <= _MAX_IDENTIFIER:
            self.resolved_username = login_username(identifier) if identifier else identifier
        else:
            self.resolved_username = identifier
        # The account's own username when the identifier names one: one count per account.
        lockout_key = self.resolved_username or identifier
        login_lockout_check(lockout_key)
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            login_failed(lockout_key, address=client_ip(request))
            raise
        login_succeeded(lockout_key)
        return response

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "login_username": self.resolved_username}


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_token_refresh",
        responses={200: TokenPairSerializer, **error_responses(400, 401)},
    )
)
class RefreshView(TokenRefreshView):
    """Rotate a refresh token: the answer carries a new pair, the old refresh is blacklisted."""


class LogoutView(APIView):
    """Blacklist a refresh token; the access token is not required (it may have expired)."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_logout",
        request=LogoutSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token is blacklisted."),
            **error_responses(400, 401),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"], operation_id="auth_me", responses={200: UserSerializer, **error_responses(401)}
    )
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(cast(User, request.user)).data)
