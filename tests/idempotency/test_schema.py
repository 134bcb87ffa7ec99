"""schema.yml documents the Idempotency-Key on exactly the operations the middleware covers."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import RequestFactory
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from idempotency import keys
from idempotency.schema import document_idempotency_key
from tests.test_architecture import ROOT

WEBHOOK = "/api/v1/payments/stripe/webhook/"
WRITES = ("post", "patch", "delete")


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = yaml.safe_load((ROOT / "schema.yml").read_text(encoding="utf-8"))
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def _has_key_header(operation: dict[str, Any]) -> bool:
    parameters = operation.get("parameters", [])
    return any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters)


def test_every_api_write_but_the_webhook_documents_the_header_and_its_answers() -> None:
    # given
    operations = _operations()
    writes = [
        (path, method, operation)
        for path, method, operation in operations
        if method in WRITES and path.startswith("/api/v1/") and path != WEBHOOK
    ]

    # then
    assert {o["operationId"] for _, _, o in writes} >= {
        "auth_register",
        "auth_token_obtain",
        "carts_create",
        "carts_items_add",
        "carts_items_update",
        "carts_items_remove",
        "carts_checkout",
        "orders_confirm",
        "orders_cancel",
    }
    for _, _, operation in writes:
        assert _has_key_header(operation), operation["operationId"]
        responses = operation["responses"]
        assert {"400", "409", "422"} <= set(responses), operation["operationId"]
        assert "idempotency_key_in_progress" in responses["409"]["description"]
        assert "idempotency_key_reused" in responses["422"]["description"]
        assert responses["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    others = [o["operationId"] for p, m, o in operations if (p, m, o) not in writes and _has_key_header(o)]
    assert others == []


def test_the_hook_documents_an_operation_it_has_never_seen() -> None:
    # given
    result: dict[str, Any] = {
        "paths": {
            "/api/v1/carts/claim/": {"post": {"operationId": "claim", "responses": {"200": {}}}},
            WEBHOOK: {"post": {"operationId": "hook", "responses": {"200": {}}}},
        }
    }

    # when
    document_idempotency_key(result)

    # then
    claim = result["paths"]["/api/v1/carts/claim/"]["post"]
    assert _has_key_header(claim)
    assert list(claim["responses"]) == ["200", "400", "409", "422"]
    assert not _has_key_header(result["paths"][WEBHOOK]["post"])


@pytest.mark.django_db
def test_the_caller_scope_is_the_user_else_the_guest_cart_token_else_the_address(user: User) -> None:
    # given
    factory = RequestFactory()
    token = str(RefreshToken.for_user(user).access_token)

    # when
    scopes = [
        keys.caller_scope(factory.post("/", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_CART_TOKEN="t1")),
        keys.caller_scope(factory.post("/", HTTP_X_CART_TOKEN="t1")),
        keys.caller_scope(factory.post("/", HTTP_X_CART_TOKEN="t2")),
        keys.caller_scope(factory.post("/", HTTP_AUTHORIZATION="Bearer forged", REMOTE_ADDR="203.0.113.9")),
    ]

    # then
    assert scopes[0] == f"user:{user.pk}"
    assert scopes[1].startswith("cart:")
    assert scopes[1] != scopes[2]
    assert "t1" not in scopes[1], "a cart token is a credential: only its hash is stored"
    assert scopes[3] == "address:203.0.113.9"
