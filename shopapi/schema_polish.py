"""OpenAPI polish for integrators: a drf-spectacular postprocessing hook run on the whole schema.

What it does, and why here rather than per view (it holds for endpoints added later too):

- `servers`: one relative entry, so "Try it out" in Swagger UI and generated clients call the host
  that served the schema (a fixed host would send a deployed schema's calls to localhost).
- a `summary` on every operation: the first sentence of its description when a view gives none.
- `security` on every operation: `[{}]` (anonymous) where the view declares no authentication.
- no `nullable` beside `allOf`: drf-spectacular writes a nullable reference as `allOf: [$ref]` +
  `nullable: true`, which OpenAPI 3.0 leaves ambiguous (the `$ref`'d schema itself does not allow
  null); it becomes `oneOf: [$ref, {nullable, enum: [null]}]`, "the reference or null", which
  every tool reads alike (openapi-typescript: `Category | null`).
- no notes for the project's developers in descriptions: a paragraph of a component's description
  that talks about querysets (a serializer docstring's note on `select_related`) is dropped.
- OpenAPI links between the purchase steps (open cart → add line → checkout → confirm → read or
  cancel the order), so a client generator, a reader, and schemathesis's stateful phase
  (`make contract`) know which answer field feeds which call.
"""

from __future__ import annotations

import re
from typing import Any

SERVERS = [{"url": "/", "description": "The server that serves this schema"}]

# OpenAPI 3.0's way to say "or null" beside a reference: a schema that only null matches.
NULL = {"type": "object", "nullable": True, "enum": [None]}

# Summaries for operations whose view gives neither a summary nor a description.
SUMMARIES = {"auth_me": "The signed-in user's account"}

# A paragraph with any of these is about the implementation (ORM query hints), not the API.
_INTERNAL = re.compile(r"select_related|prefetch_related|[Qq]ueryset")

# (operationId, response statuses) → {link name: (target operationId, parameters, requestBody)}.
_Link = tuple[str, dict[str, str], dict[str, str] | None]
LINKS: dict[tuple[str, tuple[str, ...]], dict[str, _Link]] = {
    ("carts_create", ("200", "201")): {
        "AddLine": ("carts_items_add", {"id": "$response.body#/id"}, None),
        "GetCart": ("carts_retrieve", {"id": "$response.body#/id"}, None),
        "Checkout": ("carts_checkout", {"id": "$response.body#/id"}, None),
    },
    ("carts_items_add", ("201",)): {
        "UpdateLine": (
            "carts_items_update",
            {"id": "$request.path.id", "item_id": "$response.body#/id"},
            None,
        ),
        "RemoveLine": (
            "carts_items_remove",
            {"id": "$request.path.id", "item_id": "$response.body#/id"},
            None,
        ),
        "Checkout": ("carts_checkout", {"id": "$request.path.id"}, None),
    },
    ("carts_checkout", ("200", "201")): {
        "Confirm": ("orders_confirm", {}, {"session_id": "$response.body#/session_id"}),
        "GetOrder": ("orders_retrieve", {"id": "$response.body#/order_id"}, None),
        "CancelOrder": ("orders_cancel", {"id": "$response.body#/order_id"}, None),
    },
    ("orders_confirm", ("200",)): {
        "GetOrder": ("orders_retrieve", {"id": "$response.body#/id"}, None),
    },
}


def polish(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): every step above, in place."""
    result["servers"] = SERVERS
    operations = {
        operation["operationId"]: operation
        for item in result.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for path_item in result.get("paths", {}).values():
        for method, operation in list(path_item.items()):
            if isinstance(operation, dict) and "responses" in operation:
                path_item[method] = _operation(operation)
    for schema in result.get("components", {}).get("schemas", {}).values():
        _component(schema)
    _links(operations)
    return result


def summary_of(operation: dict[str, Any]) -> str:
    """The first sentence of the description (without Markdown emphasis), else the operationId in words."""
    if operation.get("operationId") in SUMMARIES:
        return SUMMARIES[operation["operationId"]]
    description = " ".join(str(operation.get("description", "")).split())
    sentence = re.split(r"(?<=[.!?])\s|:\s", description, maxsplit=1)[0].rstrip(".")
    if sentence and len(sentence) <= 100:
        return sentence.replace("`", "")
    return str(operation["operationId"]).replace("_", " ").capitalize()


def _operation(operation: dict[str, Any]) -> dict[str, Any]:
    """The operation with a summary (placed after its description) and a security entry."""
    if "security" not in operation:
        operation["security"] = [{}]
    if operation.get("summary"):
        return operation
    polished: dict[str, Any] = {}
    for key, value in operation.items():
        polished[key] = value
        if key == "description":
            polished["summary"] = summary_of(operation)
    polished.setdefault("summary", summary_of(operation))
    return polished


def _component(schema: dict[str, Any]) -> None:
    description = schema.get("description")
    if isinstance(description, str):
        kept = [paragraph for paragraph in description.split("\n\n") if not _INTERNAL.search(paragraph)]
        if kept:
            schema["description"] = "\n\n".join(kept)
        else:
            del schema["description"]
    for name, prop in schema.get("properties", {}).items():
        if isinstance(prop, dict) and prop.get("nullable") and "allOf" in prop and len(prop["allOf"]) == 1:
            rebuilt = {key: value for key, value in prop.items() if key not in ("allOf", "nullable")}
            schema["properties"][name] = {"oneOf": [*prop["allOf"], NULL], **rebuilt}


def _links(operations: dict[str, dict[str, Any]]) -> None:
    for (source, statuses), links in LINKS.items():
        operation = operations.get(source)
        if operation is None:
            continue
        for status in statuses:
            response = operation["responses"].get(status)
            if response is None:
                continue
            response["links"] = {
                name: {
                    "operationId": target,
                    **({"parameters": parameters} if parameters else {}),
                    **({"requestBody": body} if body else {}),
                }
                for name, (target, parameters, body) in links.items()
                if target in operations
            }
