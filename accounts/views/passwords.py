"""Password change (signed in) and password reset by email (request, then confirm)."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import (
    DetailSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    TokenPairSerializer,
)
from accounts.services.passwords import (
    RESET_INVALID,
    OldPasswordIncorrect,
    password_change,
    password_reset_confirm,
    password_reset_request,
)
from accounts.throttles import PasswordResetEmailThrottle, PasswordResetThrottle
from shopapi.client_ip import client_ip
from shopapi.schema import error_responses
from shopapi.throttling import login_failed, login_lockout_check, login_succeeded

# The one answer to every reset request, whether or not an account has the address.
RESET_REQUESTED = {"detail": "If that address can be used, an email with the next steps is on its way."}


class PasswordChangeView(APIView):
    """Change the password, knowing the old one.

    Every other refresh token of the account stops working; the answer is a fresh pair for this
    device. A wrong old password counts as a failed login (the account's lock-out applies here
    too: while it is locked the answer is a 429 and nothing is checked).
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_password_change",
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
        examples=[
            OpenApiExample(
                "Wrong old password",
                value={
                    "code": "validation_error",
                    "message": "Your old password was entered incorrectly.",
                    "fields": {"old_password": ["Your old password was entered incorrectly."]},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        user = cast(User, request.user)
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lockout_key = user.get_username()
        login_lockout_check(lockout_key)
        try:
            tokens = password_change(user=user, **serializer.validated_data)
        except OldPasswordIncorrect:
            login_failed(lockout_key, address=client_ip(request))
            raise
        login_succeeded(lockout_key)
        return Response(tokens)


class PasswordResetView(APIView):
    """Ask for a password reset link by email.

    Always 202 with the same body, whether or not an account has the address (no one learns who
    has an account here): the address gets either the link (`PASSWORD_RESET_URL?uid=…&token=…`,
    for `POST /auth/password/reset/confirm/`) or word that no account there can be reset.
    Throttled per client address and per email address.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [PasswordResetThrottle]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_password_reset",
        request=PasswordResetSerializer,
        responses={202: DetailSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        PasswordResetEmailThrottle(email).enforce(request, self)
        password_reset_request(email=email)
        return Response(RESET_REQUESTED, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """Set a new password with the `uid` and `token` of the emailed link.

    The link works once. Every refresh token of the account stops working, the login lock-out of
    the account is lifted, and the email address counts as verified. Sign in afterwards.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        tags=["auth"],
        operation_id="auth_password_reset_confirm",
        request=PasswordResetConfirmSerializer,
        responses={
            204: OpenApiResponse(description="The password is set; sign in with it."),
            **error_responses(400),
        },
        examples=[
            OpenApiExample(
                "Used or expired link",
                value={
                    "code": "password_reset_invalid",
                    "message": RESET_INVALID,
                    "fields": {"token": [RESET_INVALID]},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = password_reset_confirm(**serializer.validated_data)
        login_succeeded(user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)
