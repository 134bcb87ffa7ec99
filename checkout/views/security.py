"""The credentials cart and order endpoints take, as DRF and the OpenAPI schema see them.

A guest is not a user: `X-Cart-Token` and `X-Order-Token` authenticate no one (`request.user`
stays anonymous). `checkout.ownership.owner_from_request` reads them and the ownership rules
decide what they reach. The two classes here exist so the schema publishes the headers as
`apiKey` security schemes (`cartToken`, `orderToken`) on the operations that accept them, and
generated clients send them.

`OwnerRules` lets every caller in and leaves the answer to the ownership rules (anything not the
caller's is a 404). Unlike DRF's `AllowAny`, it does not tell the schema that no credential is
needed: an operation that works with none at all (opening a guest cart, confirming a guest
order) says so with `auth=` (`ANONYMOUS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.utils.cache import patch_vary_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from checkout.ownership import CART_TOKEN_HEADER, ORDER_TOKEN_HEADER

# Security requirements for `security(...)`: each one an alternative; a dict naming two needs both.
JWT: dict[str, list[str]] = {"jwtAuth": []}
CART_TOKEN: dict[str, list[str]] = {"cartToken": []}
ORDER_TOKEN: dict[str, list[str]] = {"orderToken": []}
ANONYMOUS: dict[str, list[str]] = {}


def security(*requirements: dict[str, list[str]]) -> Sequence[str]:
    """`extend_schema(auth=...)`: the operation's security requirements, replacing the discovered ones.

    (drf-spectacular annotates `auth` as strings but takes OpenAPI security requirement objects.)
    """
    return cast("Sequence[str]", list(requirements))


class CartTokenHeader(BaseAuthentication):
    """`X-Cart-Token`: documented here, read by `owner_from_request`; authenticates no one."""

    def authenticate(self, request: Request) -> None:
        return None


class OrderTokenHeader(BaseAuthentication):
    """`X-Order-Token`: documented here, read by `owner_from_request`; authenticates no one."""

    def authenticate(self, request: Request) -> None:
        return None


# What cart and order endpoints authenticate with: the JWT, and the token header they document.
CART_AUTHENTICATION: list[type[BaseAuthentication]] = [JWTAuthentication, CartTokenHeader]
ORDER_AUTHENTICATION: list[type[BaseAuthentication]] = [JWTAuthentication, OrderTokenHeader]


class OwnerRules(BasePermission):
    """Anyone may ask; checkout/ownership.py answers 404 for whatever is not the caller's."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return True


class TokenVaryMixin:
    """Answers that depend on a token header say so (`Vary`), so no cache shares them."""

    vary_on: tuple[str, ...] = ()

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        patch_vary_headers(response, self.vary_on)
        return response


class CartTokenScheme(OpenApiAuthenticationExtension):
    target_class = CartTokenHeader
    name = "cartToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": CART_TOKEN_HEADER,
            "description": (
                "A guest cart's token, from the answer of an anonymous `POST /carts/` (shown once). "
                "Reaches that cart only; a wrong or missing token is a 404."
            ),
        }


class OrderTokenScheme(OpenApiAuthenticationExtension):
    target_class = OrderTokenHeader
    name = "orderToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": ORDER_TOKEN_HEADER,
            "description": (
                "A guest order's `order_token` (from the checkout and confirm answers). Reads and "
                "cancels that order only; a wrong or missing token is a 404."
            ),
        }
