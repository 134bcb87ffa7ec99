"""Orders read as rows with their children, the API's JSON built by PostgreSQL: list and detail.

Why it exists: the orders list was the slowest API path (issue 21). A page of 50 orders, each with
3 items and 2 events, built ~300 model instances through the ORM and its prefetch machinery, in 4
queries (orders, items, events, shipments; 5 with shipment items), then shaped them one value at
a time; instantiating, matching and formatting cost several times what the JSON itself does.

Here the page is one query: each order row carries `data`, the order as `OrderSerializer` shows
it, built by PostgreSQL with `json_build_object` (`json`, not `jsonb`, keeps the keys in the
serializer's order), its items, events and shipments (with their items) aggregated into it in the
serializer's orderings, and every datetime formatted as `iso_utc` formats it (`_iso`). Python
decodes it (in C) and sets the three fields its own rules decide: `shipping` (`shipping_data`),
`fulfilment_status` (`fulfilment_status_for`) and `order_token` (`order_token_shown`), from the
columns read alongside. `id` and `created_at` are read as columns too: the pagination's cursors
are made from them (`order_rows` is the list's page `fetch`).

`OrderSerializer` (checkout/serializers/orders.py) stays the contract (the schema is generated from
its fields) and the shape of every other answer (confirm, cancel, the outbox's webhook body). The
two must agree byte for byte: `tests/checkout/test_order_rows.py` compares them for every shape of
order, list (every page, both directions) and detail, and `_iso` with `iso_utc` in several session
time zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import JSONField, QuerySet
from django.db.models.expressions import RawSQL

from checkout.fulfilment_models import fulfilment_status_for
from checkout.models import Order
from checkout.serializers.fulfilment import shipping_data
from checkout.tokens import order_token_shown


def _iso(column: str) -> str:
    """SQL: the timestamptz `column` as `iso_utc` renders it (UTC, `Z`, microseconds unless 0)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {utc}) = {utc} "
        f'THEN to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') '
        f'ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END'
    )


def _json_rows(select: str, table: str, alias: str, where: str, order_by: str) -> str:
    """A child relation's rows as a JSON array of `select` (NULL when there are none)."""
    return f'(SELECT json_agg({select} ORDER BY {order_by}) FROM "{table}" {alias} WHERE {where})'  # noqa: S608 - constant SQL


_ORDER = '"checkout_order"'
# Each relation as a JSON array of objects whose keys are in the serializer's order (`json`, not
# `jsonb`, keeps the order it is built in), with the serializer's ordering.
_ITEMS_SQL = _json_rows(
    "json_build_object('id', i.id, 'product_id', i.product_id, 'variant_id', i.variant_id, "
    "'sku', i.sku, 'name', i.name, 'variant_title', i.variant_title, "
    "'unit_amount', i.unit_amount, 'quantity', i.quantity, 'line_total', i.line_total, "
    "'quantity_shipped', i.quantity_shipped)",
    "checkout_orderitem",
    "i",
    f"i.order_id = {_ORDER}.id",
    "i.id",
)
_EVENTS_SQL = _json_rows(
    "json_build_object('status', e.to_status, 'kind', e.kind, "
    f"'created_at', {_iso('e.created_at')}, 'source', e.source)",
    "checkout_orderevent",
    "e",
    f"e.order_id = {_ORDER}.id",
    "e.created_at, e.id",
)
_SHIPMENT_ITEMS_SQL = (
    "COALESCE("
    + _json_rows(
        "json_build_object('order_item_id', si.order_item_id, 'quantity', si.quantity)",
        "checkout_shipmentitem",
        "si",
        "si.shipment_id = s.id",
        "si.id",
    )
    + ", '[]'::json)"
)
_SHIPMENTS_SQL = _json_rows(
    "json_build_object('id', s.id, 'carrier', s.carrier, 'tracking_number', s.tracking_number, "
    f"'tracking_url', s.tracking_url, 'shipped_at', {_iso('s.shipped_at')}, "
    f"'delivered_at', {_iso('s.delivered_at')}, 'items', {_SHIPMENT_ITEMS_SQL})",
    "checkout_shipment",
    "s",
    f"s.order_id = {_ORDER}.id",
    "s.shipped_at, s.id",
)


def _column(name: str) -> str:
    return f"{_ORDER}.{name}"


# The order as the API shows it (`OrderSerializer`'s fields, in its order). The three fields
# Python rules decide are NULL here and set by `order_row_data`.
_ORDER_FIELDS = (
    ("id", _column("id")),
    ("number", _column("number")),
    ("status", _column("status")),
    ("currency", _column("currency")),
    ("total_amount", _column("total_amount")),
    ("subtotal_amount", _column("subtotal_amount")),
    ("shipping_amount", _column("shipping_amount")),
    ("discount_amount", _column("discount_amount")),
    ("tax_amount", _column("tax_amount")),
    ("amount_refunded", _column("amount_refunded")),
    ("oversold", _column("oversold")),
    ("items", f"COALESCE({_ITEMS_SQL}, '[]')"),
    ("shipping", "NULL"),  # shipping_data()
    ("fulfilment_status", "NULL"),  # fulfilment_status_for()
    ("shipments", f"COALESCE({_SHIPMENTS_SQL}, '[]')"),
    ("checkout_url", _column("checkout_url")),
    ("session_expires_at", _iso(_column("session_expires_at"))),
    ("created_at", _iso(_column("created_at"))),
    ("updated_at", _iso(_column("updated_at"))),
    ("paid_at", _iso(_column("paid_at"))),
    ("events", f"COALESCE({_EVENTS_SQL}, '[]')"),
    ("order_token", "NULL"),  # order_token_shown()
)
_ORDER_SQL = "json_build_object(" + ", ".join(f"'{key}', {sql}" for key, sql in _ORDER_FIELDS) + ")::text"


class OrderRow(NamedTuple):
    """What `order_rows` reads of one order: `data`, its API shape as PostgreSQL built it, and the
    columns the rest is decided from (`id` and `created_at` are also the pagination's cursor)."""

    id: UUID
    created_at: datetime
    token_hash: str | None
    shipping_method_id: int | None
    shipping_method_name: str
    shipping_address: Any
    data: dict[str, Any]


def order_rows(orders: QuerySet[Order], *, limit: int | None = None) -> list[OrderRow]:
    """The first `limit` (else all) of `orders`, in their ordering, with their children: one query.

    `orders` must select from `checkout_order` under its own name (any `Order` queryset without
    a self-join does).
    """
    data = RawSQL(_ORDER_SQL, (), output_field=JSONField())  # noqa: S611 - constant SQL, no input
    rows = orders.annotate(data=data).values_list(*OrderRow._fields)
    if limit is not None:
        rows = rows[:limit]
    return [OrderRow._make(row) for row in rows]


def order_row_data(row: OrderRow) -> dict[str, Any]:
    """`OrderSerializer(order).data` for the order `row` was read from (no query)."""
    data = row.data
    ordered = shipped = 0
    for item in data["items"]:
        ordered += item["quantity"]
        shipped += item["quantity_shipped"]
    data["shipping"] = shipping_data(row.shipping_method_id, row.shipping_method_name, row.shipping_address)
    data["fulfilment_status"] = fulfilment_status_for(ordered=ordered, shipped=shipped)
    data["order_token"] = order_token_shown(row.id, row.token_hash)
    return data


def orders_data(rows: Sequence[OrderRow]) -> list[dict[str, Any]]:
    """`OrderSerializer(orders, many=True).data` for these rows, in their order (no query)."""
    return [order_row_data(row) for row in rows]
