"""Idempotency-Key test helpers: a cart, a product, add-to-cart with or without a key, view runs counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Product
from checkout.models import Cart, CartItem
from checkout.views import carts as cart_views
from tests.factories import CartFactory, ProductFactory

if TYPE_CHECKING:
    from rest_framework.response import _MonkeyPatchedResponse

KEY = "9f6c1e0e-6a43-4c1e-9d0a-4a2b7f3c5d21"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def product(db: None) -> Product:
    return ProductFactory.create()


@pytest.fixture
def cart(user: User) -> Cart:
    return CartFactory.create(user=user)


def items_url(cart: Cart) -> str:
    return f"/api/v1/carts/{cart.pk}/items/"


def key_header(key: str | None) -> dict[str, Any]:
    return {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}


def add(
    client: APIClient, cart: Cart, product: Product, *, key: str | None = None, quantity: int = 1
) -> _MonkeyPatchedResponse:
    """POST /carts/{id}/items/ with the product, optionally under an Idempotency-Key."""
    return client.post(
        items_url(cart), {"product_id": product.pk, "quantity": quantity}, format="json", **key_header(key)
    )


def quantity_in(cart: Cart) -> int:
    """Units in the cart, all lines together."""
    return sum(CartItem.objects.filter(cart=cart).values_list("quantity", flat=True))


class ViewRuns:
    """How many times the add-to-cart view reached its service (one per run of the view)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.before: Callable[[], None] = lambda: None
        service = cart_views.cart_item_add

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            self.before()
            return service(*args, **kwargs)

        monkeypatch.setattr(cart_views, "cart_item_add", counted)


@pytest.fixture
def view_runs(monkeypatch: pytest.MonkeyPatch) -> ViewRuns:
    return ViewRuns(monkeypatch)


def database_url() -> str:
    """The test database as a URL, for server processes started by a test."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
