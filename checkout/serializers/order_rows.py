"""Orders read as rows with their children, the API's JSON written by PostgreSQL: list and detail.

Why it exists: the orders list was the slowest API path (issue 21). A page of 50 orders, each with
3 items and 2 events, built ~300 model instances through the ORM and its prefetch machinery, in 4
queries (orders, items, events, shipments; 5 with shipment items), then shaped them one value at
a time; instantiating, matching and formatting cost several times what the JSON itself does.

Here the page is one query, and each order row carries its answer as text: the very characters
DRF's JSON renderer writes for `OrderSerializer`'s data (compact separators, no ASCII escaping),
written by PostgreSQL with `concat` and `string_agg` in the serializer's key order and orderings.
Why text and not `json_build_object`: PostgreSQL's JSON is written with spaces (`"id" : 1`), so it
had to be decoded in Python and encoded again by the renderer; on a page of 50 orders, that and
the renderer's response were ~40 % of the request's CPU (`bench.cpu`: 3.2 ms, now 1.9 ms).

Strings are escaped by `to_json`, which escapes exactly the characters Python's encoder does (`"`,
`\\`, controls, `\\u00XX` in lower case); U+2028 and U+2029, which DRF's renderer escapes and
PostgreSQL does not, are escaped over the whole answer (`page_json`, `order_json`) as the renderer
does. Datetimes are formatted as `iso_utc` formats them (`_iso`). An answer the renderer writes
another way (an `indent`) is the same text decoded again (`orders_data`).

Python decides three fields by its own rules and writes them between the SQL's pieces (`_order`):
`shipping` (`shipping_data`), `fulfilment_status` (`fulfilment_status_for`, from the units ordered
and shipped, which the items' subquery writes before the items' JSON) and `order_token`
(`order_token_shown`). `id` and `created_at` are read as columns too: the pagination's cursors are
made from them (`order_rows` is the list's page `fetch`).

`OrderSerializer` (checkout/serializers/orders.py) stays the contract (the schema is generated from
its fields) and the shape of every other answer (confirm, cancel, the outbox's webhook body). The
two must agree byte for byte: `tests/checkout/test_order_rows.py` compares them for every shape of
order, list (every page, both directions) and detail, and `_iso` with `iso_utc` in several session
time zones; `tests/checkout/test_orders_fast_json.py` every character that needs escaping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from catalog.fragments import render_json
from checkout.fulfilment_models import FulfilmentStatus, fulfilment_status_for
from checkout.models import Order
from checkout.serializers.fulfilment import shipping_data
from checkout.tokens import order_token_shown

# Python values written into the SQL's text as the renderer writes them (`render_json`).
_STATUS_JSON: dict[str, str] = {status: render_json(str(status)).decode() for status in FulfilmentStatus}


def _iso(column: str) -> str:
    """SQL: the timestamptz `column` as `iso_utc` renders it (UTC, `Z`, microseconds unless 0)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {utc}) = {utc} "
        f'THEN to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') '
        f'ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END'
    )


# SQL writing one value as JSON text. `concat` skips NULL arguments, so a nullable value must
# say `null` itself (`_iso_or_null`); the other columns are NOT NULL.
def _string(column: str) -> str:
    return f"to_json({column})"


def _number(column: str) -> str:
    return column


def _boolean(column: str) -> str:
    return f"CASE WHEN {column} THEN 'true' ELSE 'false' END"


def _quoted(column: str) -> str:
    """A value whose text needs no escaping (a UUID), as a JSON string."""
    return f"'\"' || {column} || '\"'"


def _iso_string(column: str) -> str:
    return _quoted(_iso(column))


def _iso_or_null(column: str) -> str:
    return f"COALESCE({_quoted(_iso(column))}, 'null')"


def _members(fields: Sequence[tuple[str, str]], *, opening: str) -> list[str]:
    """SQL: `concat` arguments writing `fields` (key, SQL writing its value) as JSON object
    members in this order, the first after `opening` (`{`, or `,` to continue an object)."""
    parts: list[str] = []
    for number, (key, sql) in enumerate(fields):
        parts += [_literal(_key(key, opening=opening if number == 0 else ",")), sql]
    return parts


def _object(fields: Sequence[tuple[str, str]]) -> str:
    """SQL: a JSON object of `fields`, keys in this order."""
    return f"concat({', '.join(_members(fields, opening='{'))}, '}}')"


def _key(name: str, *, opening: str = ",") -> str:
    return f"{opening}{json.dumps(name)}:"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rows(select: str, table: str, alias: str, where: str, order_by: str) -> str:
    """SQL: a child relation's rows as the text of their JSON objects joined by `,` (NULL if none)."""
    return f"(SELECT string_agg({select}, ',' ORDER BY {order_by}) FROM \"{table}\" {alias} WHERE {where})"  # noqa: S608 - constant SQL


def _array(rows: str) -> str:
    return f"concat('[', {rows}, ']')"


_ORDER = '"checkout_order"'


def _column(name: str) -> str:
    return f"{_ORDER}.{name}"


_ITEM = _object(
    [
        ("id", _number("i.id")),
        ("product_id", _number("i.product_id")),
        ("variant_id", _number("i.variant_id")),
        ("sku", _string("i.sku")),
        ("name", _string("i.name")),
        ("variant_title", _string("i.variant_title")),
        ("unit_amount", _number("i.unit_amount")),
        ("quantity", _number("i.quantity")),
        ("line_total", _number("i.line_total")),
        ("quantity_shipped", _number("i.quantity_shipped")),
    ]
)


def _units_and_items() -> str:
    """SQL: the units ordered and shipped, then the items' JSON: `3 1 [{...},...]` (`_order`
    splits it; the units decide `fulfilment_status`, and one subquery reads the items once)."""
    units = "COALESCE(sum(i.quantity), 0), ' ', COALESCE(sum(i.quantity_shipped), 0)"
    select = f"concat({units}, ' [', string_agg({_ITEM}, ',' ORDER BY i.id), ']')"
    return f'(SELECT {select} FROM "checkout_orderitem" i WHERE i.order_id = {_ORDER}.id)'  # noqa: S608 - constant SQL


_ITEMS_SQL = _units_and_items()
_EVENTS_SQL = _array(
    _rows(
        _object(
            [
                ("status", _string("e.to_status")),
                ("kind", _string("e.kind")),
                ("created_at", _iso_string("e.created_at")),
                ("source", _string("e.source")),
            ]
        ),
        "checkout_orderevent",
        "e",
        f"e.order_id = {_ORDER}.id",
        "e.created_at, e.id",
    )
)
_SHIPMENT_ITEMS_SQL = _array(
    _rows(
        _object([("order_item_id", _number("si.order_item_id")), ("quantity", _number("si.quantity"))]),
        "checkout_shipmentitem",
        "si",
        "si.shipment_id = s.id",
        "si.id",
    )
)
_SHIPMENTS_SQL = _array(
    _rows(
        _object(
            [
                ("id", _number("s.id")),
                ("carrier", _string("s.carrier")),
                ("tracking_number", _string("s.tracking_number")),
                ("tracking_url", _string("s.tracking_url")),
                ("shipped_at", _iso_string("s.shipped_at")),
                ("delivered_at", _iso_or_null("s.delivered_at")),
                ("items", _SHIPMENT_ITEMS_SQL),
            ]
        ),
        "checkout_shipment",
        "s",
        f"s.order_id = {_ORDER}.id",
        "s.shipped_at, s.id",
    )
)

# The order as the API shows it (`OrderSerializer`'s fields, in its order: a test compares them),
# each with the SQL writing its value; `_order` writes them in this layout. `items` is its own
# column (`_ITEMS_SQL`, after the units); the fields Python's rules decide (None) are written by
# `_order` between `json_head` (the fields before `items`) and `json_tail` (those after).
_HEAD_FIELDS = (
    ("id", _quoted(_column("id"))),
    ("number", _string(_column("number"))),
    ("status", _string(_column("status"))),
    ("currency", _string(_column("currency"))),
    ("total_amount", _number(_column("total_amount"))),
    ("subtotal_amount", _number(_column("subtotal_amount"))),
    ("shipping_amount", _number(_column("shipping_amount"))),
    ("discount_amount", _number(_column("discount_amount"))),
    ("tax_amount", _number(_column("tax_amount"))),
    ("amount_refunded", _number(_column("amount_refunded"))),
    ("oversold", _boolean(_column("oversold"))),
)
_TAIL_FIELDS = (
    ("shipments", _SHIPMENTS_SQL),
    ("checkout_url", _string(_column("checkout_url"))),
    ("session_expires_at", _iso_or_null(_column("session_expires_at"))),
    ("created_at", _iso_string(_column("created_at"))),
    ("updated_at", _iso_string(_column("updated_at"))),
    ("paid_at", _iso_or_null(_column("paid_at"))),
    ("events", _EVENTS_SQL),
)
_ORDER_FIELDS: tuple[tuple[str, str | None], ...] = (
    *_HEAD_FIELDS,
    ("items", _ITEMS_SQL),
    ("shipping", None),  # shipping_data()
    ("fulfilment_status", None),  # fulfilment_status_for()
    *_TAIL_FIELDS,
    ("order_token", None),  # order_token_shown()
)


# `{"id":…,"oversold":…,"items":` and `,"shipments":…,"events":[…],"order_token":`
_HEAD_SQL = f"concat({', '.join(_members(_HEAD_FIELDS, opening='{'))}, {_literal(_key('items'))})"
_TAIL_SQL = f"concat({', '.join(_members(_TAIL_FIELDS, opening=','))}, {_literal(_key('order_token'))})"
_SHIPPING_KEY = _key("shipping")
_FULFILMENT_KEY = _key("fulfilment_status")


class OrderRow(NamedTuple):
    """What `order_rows` reads of one order: its answer's text as PostgreSQL wrote it (`json_*`),
    and the columns the rest is decided from (`id` and `created_at` are also the pagination's
    cursor)."""

    id: UUID
    created_at: datetime
    token_hash: str | None
    shipping_method_id: int | None
    shipping_method_name: str
    shipping_address: Any
    json_head: str
    json_items: str
    json_tail: str


def order_rows(orders: QuerySet[Order], *, limit: int | None = None) -> list[OrderRow]:
    """The first `limit` (else all) of `orders`, in their ordering, with their children: one query.

    `orders` must select from `checkout_order` under its own name (any `Order` queryset without
    a self-join does).
    """
    rows = orders.annotate(
        json_head=RawSQL(_HEAD_SQL, (), output_field=TextField()),  # noqa: S611 - constant SQL, no input
        json_items=RawSQL(_ITEMS_SQL, (), output_field=TextField()),  # noqa: S611 - constant SQL, no input
        json_tail=RawSQL(_TAIL_SQL, (), output_field=TextField()),  # noqa: S611 - constant SQL, no input
    ).values_list(*OrderRow._fields)
    if limit is not None:
        rows = rows[:limit]
    return [OrderRow._make(row) for row in rows]


def _value(value: Any) -> str:
    return "null" if value is None else render_json(value).decode()


def _order(row: OrderRow) -> str:
    """The order's JSON text as the renderer writes `OrderSerializer(order).data`, except that
    U+2028 and U+2029 are not escaped yet (the caller does it once for the whole answer)."""
    ordered, shipped, items = row.json_items.split(" ", 2)
    status = fulfilment_status_for(ordered=int(ordered), shipped=int(shipped))
    shipping = shipping_data(row.shipping_method_id, row.shipping_method_name, row.shipping_address)
    token = order_token_shown(row.id, row.token_hash)
    return (
        f"{row.json_head}{items}{_SHIPPING_KEY}{_value(shipping)}{_FULFILMENT_KEY}{_STATUS_JSON[status]}"
        f"{row.json_tail}{_value(token)}}}"
    )


def _escaped(text: str) -> bytes:
    """As DRF's renderer finishes an answer: U+2028 and U+2029 escaped, UTF-8."""
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def order_json(row: OrderRow) -> bytes:
    """The bytes DRF's renderer writes for `OrderSerializer(order).data` (no indent; no query)."""
    return _escaped(_order(row))


def page_json(rows: Sequence[OrderRow], *, next_url: str | None, previous_url: str | None) -> bytes:
    """The bytes DRF's renderer writes for the orders list's page of these rows (`KeysetPagination`'s
    `{"next", "previous", "results"}`, no indent; no query)."""
    results = ",".join([_order(row) for row in rows])
    return _escaped(f'{{"next":{_value(next_url)},"previous":{_value(previous_url)},"results":[{results}]}}')


def orders_data(rows: Sequence[OrderRow]) -> list[dict[str, Any]]:
    """`OrderSerializer(orders, many=True).data` for these rows, in their order (no query): for an
    answer the renderer writes otherwise (e.g. with an `indent`), so it need not be fast."""
    return [json.loads(order_json(row)) for row in rows]
