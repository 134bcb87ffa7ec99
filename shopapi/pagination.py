"""Keyset (cursor) pagination: constant cost on any page, stable under inserts, no skipped ties.

DRF's `CursorPagination` positions on the first ordering field only and steps over equal values
with an offset, so a deep run of equal prices costs more on every page. Here the cursor holds the
whole sort key of the boundary row — `(value, id)` — and the next page is one SQL row-value
comparison, `(unit_amount, id) > (49900, 1234)`, which a B-tree index on `(…, unit_amount, id)`
answers as a single range scan.

The ordering comes from the queryset (`order_by(...)`, set by the filterset or the view): it must
end with the primary key as a unique tiebreaker, and every field must sort in the same direction
(so one row comparison expresses "after this row"). The cursor records that ordering; a cursor
replayed under another ordering, one that does not decode, or one holding a value its column
could not (`position_value`: type, range, length, UTC offset), is a 400 naming `cursor`.

A page is read by a `PageFetch`: by default the first rows of the positioned queryset, one
statement. A list that needs another plan for the same rows passes its own `fetch` to
`paginate_queryset`; it receives the `PageQuery` (the queryset, its reading order and the cursor's
condition) and must return exactly what the default would.

Response: `{"next": url|null, "previous": url|null, "results": [...]}`. Query parameters:
`cursor`, and `page_size` (1..max; above the max it is capped; 0 or not a number is a 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    Expression,
    F,
    Field,
    IntegerField,
    Model,
    QuerySet,
    Value,
)
from django.db.models.sql.compiler import SQLCompiler
from django.utils.encoding import force_str
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

# Longest string accepted for a cursor value of a column without max_length (datetimes, UUIDs).
CURSOR_VALUE_MAX_CHARS = 64
# PostgreSQL's timestamptz input accepts UTC offsets up to ±15:59.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


class RowComparison(Expression):
    """`(col_a, col_b) > (%s, %s)` (or `<`, `>=`, `<=`): "after this row" in a one-direction ordering."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, columns: Sequence[Any], values: Sequence[Any], *, operator: str) -> None:
        if operator not in {">", "<", ">=", "<="}:
            raise ValueError(f"unsupported row comparison operator {operator!r}")
        if len(columns) != len(values):
            raise ValueError("a row comparison needs as many values as columns")
        super().__init__()
        self.columns = list(columns)
        self.values = list(values)
        self.operator = operator

    def get_source_expressions(self) -> list[Any]:
        return [*self.columns, *self.values]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        half = len(exprs) // 2
        self.columns = list(exprs[:half])
        self.values = list(exprs[half:])

    def as_sql(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql_parts: list[str] = []
        params: list[Any] = []
        for side in (self.columns, self.values):
            compiled = [compiler.compile(expr) for expr in side]
            sql_parts.append("(" + ", ".join(sql for sql, _ in compiled) + ")")
            for _, expr_params in compiled:
                params.extend(expr_params)
        return f"{sql_parts[0]} {self.operator} {sql_parts[1]}", params


def strip_direction(field: str) -> str:
    """`"-created_at"` -> `"created_at"`: the field name of an ordering entry."""
    return field.removeprefix("-")


def _model_field(model: type[Model], ordering_field: str) -> Any:
    name = strip_direction(ordering_field)
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def position_value(field: Field[Any, Any], raw: Any) -> Any:
    """One decoded cursor value as `field`'s Python value, checked as strictly as the database would.

    The encoder writes integer fields as JSON integers and everything else as strings, so only
    those are accepted: integers within the column's range, strings no longer than the column
    (`CURSOR_VALUE_MAX_CHARS` for columns without a length), valid UTF-8 without NUL, datetimes
    with a UTC offset PostgreSQL accepts (±15:59), normalised to UTC within years 1..9999.
    Anything else raises ValueError, TypeError or Django's ValidationError.
    """
    if isinstance(field, IntegerField):
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise TypeError("an integer column needs a JSON integer")
    elif not isinstance(raw, str):
        raise TypeError("a non-integer column needs a JSON string")
    else:
        max_chars = field.max_length if isinstance(field, CharField) else None  # UUIDField's is 32
        if len(raw) > (max_chars or CURSOR_VALUE_MAX_CHARS) or "\x00" in raw:
            raise ValueError("string too long or with NUL")
        raw.encode("utf-8")  # a lone surrogate is a UnicodeEncodeError
    value = field.to_python(raw)
    if isinstance(field, DateTimeField):
        offset = value.utcoffset() if isinstance(value, datetime) else None
        if offset is None or abs(offset) > MAX_UTC_OFFSET:
            raise ValueError("a cursor datetime needs a UTC offset within ±15:59")
        value = value.astimezone(UTC)  # OverflowError past year 1 or 9999
    field.run_validators(value)
    return value


def row_position(
    model: type[Model], ordering: Sequence[str], values: Sequence[Any], *, operator: str
) -> RowComparison:
    """The ordering's columns compared with one row's `values` (typed by their model fields)."""
    columns = [F(strip_direction(field)) for field in ordering]
    typed = [
        Value(value, output_field=_model_field(model, field))
        for value, field in zip(values, ordering, strict=True)
    ]
    return RowComparison(columns, typed, operator=operator)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """One page's read: `queryset` is filtered, after the cursor and ordered in reading order.

    `ordering` is that reading order (reversed when walking back), `after` the operator that
    means "after this row" in it (`>` or `<`), `position` the cursor's condition already applied
    to `queryset` (None on the first page), and `limit` how many rows to return at most.
    """

    queryset: QuerySet[Any]
    ordering: tuple[str, ...]
    after: str
    position: RowComparison | None
    limit: int


PageFetch = Callable[[PageQuery], list[Any]]


def fetch_first_rows(page: PageQuery) -> list[Any]:
    """The default read: the first `limit` rows of the queryset, one statement."""
    return list(page.queryset[: page.limit])


class KeysetPagination(BasePagination):
    """Cursor pagination on the queryset's own ordering, with a unique tiebreaker last."""

    page_size = 20
    max_page_size = 100
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.base_url = ""
        self.next_cursor: str | None = None
        self.previous_cursor: str | None = None

    # -- request parsing -------------------------------------------------------------------

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({self.page_size_query_param: ["A whole number is required."]}) from None
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Must be at least 1."]})
        return min(size, self.max_page_size)

    @staticmethod
    def get_ordering(queryset: QuerySet[Any]) -> tuple[str, ...]:
        ordering = tuple(str(field) for field in (queryset.query.order_by or queryset.model._meta.ordering))
        pk_name = queryset.model._meta.pk.name
        if not ordering or strip_direction(ordering[-1]) not in {"pk", pk_name}:
            raise ImproperlyConfigured(
                f"keyset pagination needs an ordering ending with the pk, got {ordering}"
            )
        if len({field.startswith("-") for field in ordering}) != 1:
            raise ImproperlyConfigured(f"keyset pagination needs one sort direction, got {ordering}")
        return ordering

    def _invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: ["Invalid cursor."]})

    def decode_cursor(
        self, request: Request, model: type[Model], ordering: tuple[str, ...]
    ) -> tuple[bool, list[Any]] | None:
        """`(reverse, position)` from the request's cursor, or None on the first page."""
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
            if not isinstance(payload, dict):
                raise TypeError("not an object")
            order, reverse, raw_position = payload["o"], payload["r"], payload["p"]
            if order != list(ordering) or not isinstance(reverse, bool):
                raise TypeError("cursor made for another ordering")
            if not isinstance(raw_position, list) or len(raw_position) != len(ordering):
                raise TypeError("wrong position length")
            position = [
                position_value(_model_field(model, field_name), raw)
                for field_name, raw in zip(ordering, raw_position, strict=True)
            ]
        except (
            ValueError,
            TypeError,
            KeyError,
            UnicodeError,
            binascii.Error,
            DjangoValidationError,
            OverflowError,
        ):
            raise self._invalid_cursor() from None
        return reverse, position

    def encode_cursor(self, ordering: tuple[str, ...], *, reverse: bool, row: Model) -> str:
        position = []
        for field_name in ordering:
            name = strip_direction(field_name)
            value = row.pk if name == "pk" else getattr(row, name)
            if isinstance(value, (int, str)):
                position.append(value)
            elif hasattr(value, "isoformat"):
                position.append(force_str(value.isoformat()))
            else:  # UUID primary keys and other scalar values round-trip through their string
                position.append(str(value))
        payload = json.dumps({"o": list(ordering), "r": reverse, "p": position}, separators=(",", ":"))
        encoded = base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    # -- paging ----------------------------------------------------------------------------

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        request: Request,
        view: Any = None,
        *,
        fetch: PageFetch = fetch_first_rows,
    ) -> list[Any]:
        page_size = self.get_page_size(request)
        ordering = self.get_ordering(queryset)
        cursor = self.decode_cursor(request, queryset.model, ordering)
        self.base_url = request.build_absolute_uri()
        descending = ordering[0].startswith("-")
        reversed_ordering = tuple(strip_direction(f) if f.startswith("-") else f"-{f}" for f in ordering)

        reverse = cursor is not None and cursor[0]
        read_ordering = reversed_ordering if reverse else ordering
        # "After this row" in the order rows are read: `<` when the scan goes down the index.
        after = "<" if descending != reverse else ">"
        position = None
        if cursor is not None:
            position = row_position(queryset.model, ordering, cursor[1], operator=after)
            queryset = queryset.filter(position)

        page = PageQuery(
            queryset=queryset.order_by(*read_ordering),
            ordering=read_ordering,
            after=after,
            position=position,
            limit=page_size + 1,
        )
        rows = fetch(page)
        has_more = len(rows) > page_size
        rows = rows[:page_size]
        if reverse:
            rows.reverse()

        has_next = has_more if not reverse else True
        has_previous = has_more if reverse else cursor is not None
        base = remove_query_param(self.base_url, self.cursor_query_param)
        self.base_url = base
        self.next_cursor = (
            self.encode_cursor(ordering, reverse=False, row=rows[-1]) if has_next and rows else None
        )
        self.previous_cursor = (
            self.encode_cursor(ordering, reverse=True, row=rows[0]) if has_previous and rows else None
        )
        if reverse and not rows:
            # Walked back past the start: offer the first page again.
            self.next_cursor = base
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.next_cursor, "previous": self.previous_cursor, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from `next` or `previous`; an invalid one is a 400.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page, default {self.page_size}; above {self.max_page_size} it is capped."
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
