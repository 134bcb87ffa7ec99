"""OpenAPI polish (shopapi/schema_polish.py): checked on the schema the code generates now."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from shopapi import schema_polish

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(SchemaGenerator().get_schema(request=None, public=True))


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def walk(node: Any) -> list[dict[str, Any]]:
    """Every mapping in the document."""
    if isinstance(node, dict):
        return [node, *(found for value in node.values() for found in walk(value))]
    if isinstance(node, list):
        return [found for value in node for found in walk(value)]
    return []


def test_a_relative_server_is_declared(schema: dict[str, Any]) -> None:
    assert schema["servers"] == [{"url": "/", "description": "The server that serves this schema"}]


def test_every_operation_has_a_summary_and_a_security_entry(schema: dict[str, Any]) -> None:
    for operation_id, operation in operations(schema).items():
        assert operation.get("summary"), operation_id
        assert "security" in operation, operation_id
    assert operations(schema)["auth_token_obtain"]["security"] == [{}]
    assert operations(schema)["auth_me"]["summary"] == "The signed-in user's account"


def test_nullable_is_never_beside_all_of(schema: dict[str, Any]) -> None:
    # when
    offenders = [node for node in walk(schema) if node.get("nullable") and "allOf" in node]

    # then
    assert offenders == []
    category = schema["components"]["schemas"]["Product"]["properties"]["category"]
    assert category["oneOf"] == [{"$ref": "#/components/schemas/Category"}, schema_polish.NULL]


def test_no_implementation_notes_in_descriptions(schema: dict[str, Any]) -> None:
    texts = [str(node["description"]) for node in walk(schema) if isinstance(node.get("description"), str)]
    assert not [text for text in texts if "select_related" in text or "queryset" in text.lower()]


def test_links_chain_the_purchase_steps(schema: dict[str, Any]) -> None:
    # given
    ops = operations(schema)

    # then
    created = ops["carts_create"]["responses"]["201"]["links"]
    assert created["AddLine"] == {
        "operationId": "carts_items_add",
        "parameters": {"id": "$response.body#/id"},
    }
    assert created["Checkout"]["operationId"] == "carts_checkout"
    checkout = ops["carts_checkout"]["responses"]["201"]["links"]
    assert checkout["Confirm"] == {
        "operationId": "orders_confirm",
        "requestBody": {"session_id": "$response.body#/session_id"},
    }
    assert checkout["GetOrder"]["parameters"] == {"id": "$response.body#/order_id"}
    for operation in ops.values():  # every link names an operation that exists
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ops


@pytest.mark.parametrize(
    ("operation", "summary"),
    [
        (
            {"operationId": "x", "description": "Rotate a refresh token. The old one is blacklisted."},
            "Rotate a refresh token",
        ),
        ({"operationId": "x", "description": "Where to start: the schema."}, "Where to start"),
        ({"operationId": "a_b", "description": "word " * 30}, "A b"),
        ({"operationId": "carts_list"}, "Carts list"),
        (
            {"operationId": "x", "description": "Verify the `token` of the link."},
            "Verify the token of the link",
        ),
    ],
)
def test_summary_of(operation: dict[str, Any], summary: str) -> None:
    assert schema_polish.summary_of(operation) == summary


def test_a_given_summary_is_kept_and_placed_after_the_description() -> None:
    # given
    kept = {"operationId": "x", "description": "A. B.", "summary": "Mine", "responses": {}}
    missing = {"operationId": "x", "description": "Made here. More.", "tags": ["t"], "responses": {}}

    # when
    polished_kept = schema_polish.polish({"paths": {"/a/": {"get": kept}}}, None, None, True)
    polished = schema_polish.polish({"paths": {"/a/": {"get": missing}}}, None, None, True)

    # then
    assert polished_kept["paths"]["/a/"]["get"]["summary"] == "Mine"
    assert list(polished["paths"]["/a/"]["get"]) == [
        "operationId",
        "description",
        "summary",
        "tags",
        "responses",
        "security",
    ]


def test_only_internal_paragraphs_are_dropped() -> None:
    # given
    schemas = {
        "A": {"description": "Public words.\n\nQuerysets feeding it must `select_related()`."},
        "B": {"description": "Prefetch with `prefetch_related()`."},
        "D": {"description": "Sent as `order.paid` and `checkout.session.completed`."},
        "C": {"description": "Keep me.\n\nAnd me."},
    }

    # when
    schema_polish.polish({"paths": {}, "components": {"schemas": schemas}}, None, None, True)

    # then
    assert schemas["A"]["description"] == "Public words."
    assert "description" not in schemas["B"]
    assert schemas["C"]["description"] == "Keep me.\n\nAnd me."
    assert schemas["D"]["description"] == "Sent as `order.paid` and `checkout.session.completed`."


def test_links_to_missing_operations_are_left_out() -> None:
    # given: a schema with the cart operations but no orders
    responses: dict[str, Any] = {"201": {"description": ""}}
    paths = {
        "/c/": {"post": {"operationId": "carts_checkout", "responses": responses}},
        "/d/": {"get": {"operationId": "orders_retrieve", "responses": {}}},
    }

    # when
    schema_polish.polish({"paths": paths}, None, None, True)

    # then
    assert set(responses["201"]["links"]) == {"GetOrder"}
