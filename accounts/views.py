"""Account endpoints: register, token, refresh (rotating), logout, me."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.models import User
from accounts.serializers import LogoutSerializer, RegisterSerializer, TokenPairSerializer, UserSerializer
from accounts.services import user_register
from shopapi.schema import error_responses


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_register"

    @extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={201: UserSerializer, **error_responses(400, 429)},
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
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_token_obtain",
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
    )
)
class TokenView(TokenObtainPairView):
    """Exchange a username and password for an access and a refresh token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_login"


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
