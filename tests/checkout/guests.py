"""Builders for the guest tests: guest carts with their tokens, clients that send a token."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from catalog.models import ProductVariant
from checkout.models import Cart, CartItem
from checkout.ownership import Owner
from checkout.services.carts import cart_open

CARTS = "/api/v1/carts/"
ORDERS = "/api/v1/orders/"


def guest_cart(*lines: tuple[ProductVariant, int]) -> tuple[Cart, str]:
    """A new guest cart (through the service, as an anonymous POST /carts/ makes it) holding
    `quantity` of each variant, and its token."""
    opened = cart_open(owner=Owner())
    assert opened.token is not None
    for variant, quantity in lines:
        CartItem.objects.create(cart=opened.cart, product=variant.product, variant=variant, quantity=quantity)
    return opened.cart, opened.token


def with_headers(client: APIClient | None = None, **headers: str) -> APIClient:
    """`client` (a new anonymous one by default) sending these headers on every request, e.g.
    `with_headers(HTTP_X_CART_TOKEN=token)`; keeps the JWT it already carries."""
    client = client or APIClient()
    credentials: dict[str, Any] = {**getattr(client, "_credentials", {}), **headers}
    client.credentials(**credentials)
    return client


def cart_token_client(token: str, client: APIClient | None = None) -> APIClient:
    return with_headers(client, HTTP_X_CART_TOKEN=token)


def order_token_client(token: str, client: APIClient | None = None) -> APIClient:
    return with_headers(client, HTTP_X_ORDER_TOKEN=token)
