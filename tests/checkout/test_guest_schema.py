"""schema.yml publishes the guest credentials, so generated clients send them: `cartToken`
(`X-Cart-Token`) and `orderToken` (`X-Order-Token`) security schemes on the operations that take them."""

from __future__ import annotations

from typing import Any

import yaml

from tests.test_architecture import ROOT

CART = "/api/v1/carts/{id}/"


def _schema() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "schema.yml").read_text(encoding="utf-8")))


def _security(schema: dict[str, Any], path: str, method: str) -> list[dict[str, list[str]]]:
    return list(schema["paths"][path][method]["security"])


def test_the_token_headers_are_api_key_security_schemes() -> None:
    # given
    schemes = _schema()["components"]["securitySchemes"]
    # then
    assert schemes["cartToken"] == {
        **schemes["cartToken"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Cart-Token",
    }
    assert schemes["orderToken"] == {
        **schemes["orderToken"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Order-Token",
    }


def test_each_operation_names_the_credentials_it_takes() -> None:
    # given
    schema = _schema()
    jwt: dict[str, list[str]] = {"jwtAuth": []}
    cart: dict[str, list[str]] = {"cartToken": []}
    order: dict[str, list[str]] = {"orderToken": []}
    anonymous: dict[str, list[str]] = {}
    # then: a cart takes a JWT or its token; creating one needs neither; claiming needs both
    for path, method in [
        ("/api/v1/carts/", "get"),
        (CART, "get"),
        (CART + "items/", "post"),
        (CART + "items/{item_id}/", "patch"),
        (CART + "items/{item_id}/", "delete"),
        (CART + "checkout/", "post"),
    ]:
        assert _security(schema, path, method) == [jwt, cart], (path, method)
    assert _security(schema, "/api/v1/carts/", "post") == [jwt, cart, anonymous]
    assert _security(schema, CART + "claim/", "post") == [{**jwt, **cart}]
    # and: an order takes a JWT or its token; confirm works with neither (a guest order); the history
    # needs a JWT
    assert _security(schema, "/api/v1/orders/{id}/", "get") == [jwt, order]
    assert _security(schema, "/api/v1/orders/{id}/cancel/", "post") == [jwt, order]
    assert _security(schema, "/api/v1/orders/confirm/", "post") == [jwt, anonymous]
    assert _security(schema, "/api/v1/orders/", "get") == [jwt]
