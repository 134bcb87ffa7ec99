"""Email verification: confirm with the emailed token, or have the link sent again."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import DetailSerializer, EmailVerifySerializer
from accounts.services.verification import email_verification_confirm, email_verification_resend
from accounts.throttles import EmailVerifyResendThrottle
from shopapi.schema import error_responses


class EmailVerifyView(APIView):
    """Confirm the account's email address with the `token` of the emailed link.

    No sign-in needed (the link may be opened on another device); verifying again is harmless.
    `GET /auth/me/` then shows `email_verified: true`.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        tags=["auth"],
        operation_id="auth_email_verify",
        request=EmailVerifySerializer,
        responses={
            204: OpenApiResponse(description="The email address is verified."),
            **error_responses(400),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email_verification_confirm(token=serializer.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyResendView(APIView):
    """Email the verification link again (a new token; earlier ones keep working until they expire)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [EmailVerifyResendThrottle]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_email_verify_resend",
        request=None,
        responses={202: DetailSerializer, **error_responses(401, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        email_verification_resend(user=cast(User, request.user))
        return Response({"detail": "A verification link is on its way."}, status=status.HTTP_202_ACCEPTED)
