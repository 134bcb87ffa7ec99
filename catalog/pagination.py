"""Keyset (cursor) pagination: constant cost on any page, stable under inserts, no skipped ties.

DRF's `CursorPagination` positions on the first ordering field only and steps over equal values
with an offset, so a deep run of equal prices costs more on every page. Here the cursor holds the
whole sort key of the boundary row — `(value, id)` — and the next page is one SQL row-value
comparison, `(unit_amount, id) > (49900, 1234)`, which a B-tree index on `(…, unit_amount, id)`
answers as a single range scan.

The ordering comes from the queryset (`order_by(...)`, set by the filterset or the view): it must
end with the primary key as a unique tiebreaker, and every field must sort in the same direction
(so one row comparison expresses "after this row"). The cursor records that ordering; a cursor
replayed under another ordering, or one that does not decode, is a 400 naming `cursor`.

A list whose filter no ordered index can serve (a text search) can also give a `BoundedScan`
(the view's `get_bounded_scan()`): a page is then fetched in bounded steps, `fetch_bounded`.

Response: `{"next": url|null, "previous": url|null, "results": [...]}`. Query parameters:
`cursor`, and `page_size` (1..max; above the max it is capped; 0 or not a number is a 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError, connections, transaction
from django.db.models import BooleanField, Expression, F, Model, QuerySet, Value
from django.db.models.sql.compiler import SQLCompiler
from django.utils.encoding import force_str
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


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


def _strip(field: str) -> str:
    return field.removeprefix("-")


def _model_field(model: type[Model], ordering_field: str) -> Any:
    name = _strip(ordering_field)
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


@dataclass(frozen=True, slots=True)
class BoundedScan:
    """How to page a list whose filter no ordered index can serve (a text search).

    `base` is the list *before* that filter (ordered by an index); `window_rows` is how many of
    its rows a page walks in order before it asks the filter's own index instead. When the
    filter's index still leaves too much to check, `timeout_ms` bounds that last step on
    PostgreSQL and `too_long` is raised instead of an answer.
    """

    base: QuerySet[Any]
    window_rows: int
    timeout_ms: int | None = None
    too_long: Exception | None = None


QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout (or a cancel request)


def _with_planner_settings(using: str, settings: dict[str, str], fetch: Callable[[], list[Any]]) -> list[Any]:
    """`fetch()` with planner settings `SET LOCAL` (one `set_config(..., true)` round trip).

    Without an outer transaction they live in a transaction of their own. Inside one (a test, or
    `ATOMIC_REQUESTS`) they live in a savepoint that is rolled back afterwards: these are reads,
    and the rollback is what restores exactly the values the outer transaction had.
    """

    def run() -> list[Any]:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
                [item for name, value in settings.items() for item in (name, value)],
            )
        return fetch()

    if not connections[using].in_atomic_block:
        with transaction.atomic(using=using):
            return run()
    savepoint = transaction.savepoint(using=using)
    try:
        return run()
    finally:
        transaction.savepoint_rollback(savepoint, using=using)
        transaction.savepoint_commit(savepoint, using=using)


def fetch_bounded(
    queryset: QuerySet[Any], scan: BoundedScan, *, ordering: tuple[str, ...], after: str, limit: int
) -> list[Any]:
    """The first `limit` rows of `queryset` (filtered, positioned, ordered), at a bounded cost.

    A substring search is the case: PostgreSQL must choose between walking the ordering's index
    and filtering (fast when matches are dense) and collecting every match from the trigram index
    and sorting them (fast when they are rare), and it cannot tell which, because its estimate for
    `LIKE '%word%'` is a constant. A wrong guess cost 50 ms to 2 s on a million products. So the
    choice is not left to it:

    1. the boundary: the `window_rows`-th row of `scan.base` in page order (an index-only range);
    2. the window, up to and including the boundary, read by walking the ordering's index
       (bitmap scans off): at most `window_rows` rows are checked. When it holds `limit`
       matches, they are the page (the window is a prefix of the list) — common words end here;
    3. otherwise the rest, after the boundary, with plain index scans off: the planner can no
       longer walk the ordering's index through the whole table, and takes the filter's own
       (trigram) index and sorts the matches: rare words end here, at the cost of their few
       matches. `scan.timeout_ms` bounds this step (`scan.too_long` is raised instead).

    Rows of 2 come before rows of 3 in page order, so their concatenation is exactly the
    unsplit query's answer (a row whose sort key changes between the two statements may be
    missed, as between two pages; it is never repeated). Other databases run the unsplit query.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset[:limit])
    model = queryset.model
    columns = [F(_strip(field)) for field in ordering]
    boundary = list(
        scan.base.order_by(*ordering).values_list(*(_strip(f) for f in ordering))[
            scan.window_rows - 1 : scan.window_rows
        ]
    )
    walk = {"enable_bitmapscan": "off"}
    if not boundary:  # fewer rows than a window are left: walk them all
        return _with_planner_settings(queryset.db, walk, lambda: list(queryset[:limit]))
    values = [
        Value(value, output_field=_model_field(model, field))
        for value, field in zip(boundary[0], ordering, strict=True)
    ]
    within = queryset.filter(RowComparison(columns, values, operator=f"{'>' if after == '<' else '<'}="))
    rows = _with_planner_settings(queryset.db, walk, lambda: list(within[:limit]))
    if len(rows) == limit:
        return rows
    settings = {"enable_indexscan": "off"}
    if scan.timeout_ms is not None:
        settings["statement_timeout"] = str(int(scan.timeout_ms))
    # The two steps are two statements: a row whose sort key changed in between must not come twice.
    beyond = queryset.filter(RowComparison(columns, values, operator=after)).exclude(
        pk__in=[row.pk for row in rows]
    )
    try:
        rows.extend(_with_planner_settings(queryset.db, settings, lambda: list(beyond[: limit - len(rows)])))
    except OperationalError as exc:
        if scan.too_long is None or getattr(exc.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        raise scan.too_long from None
    return rows


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
        if not ordering or _strip(ordering[-1]) not in {"pk", pk_name}:
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
            position = []
            for field_name, raw in zip(ordering, raw_position, strict=True):
                if not isinstance(raw, (str, int)) or isinstance(raw, bool):
                    raise TypeError("position values are strings or integers")
                if isinstance(raw, str) and "\x00" in raw:
                    raise TypeError("NUL in position")
                field = _model_field(model, field_name)
                value = field.to_python(raw)
                field.run_validators(value)
                position.append(value)
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
            name = _strip(field_name)
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

    def get_bounded_scan(self, view: Any) -> BoundedScan | None:
        """The view's `get_bounded_scan()`, for lists whose filters no ordered index can serve."""
        get = getattr(view, "get_bounded_scan", None)
        return get() if get is not None else None

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        page_size = self.get_page_size(request)
        ordering = self.get_ordering(queryset)
        cursor = self.decode_cursor(request, queryset.model, ordering)
        self.base_url = request.build_absolute_uri()
        descending = ordering[0].startswith("-")
        reversed_ordering = tuple(_strip(f) if f.startswith("-") else f"-{f}" for f in ordering)
        columns = [F(_strip(f)) for f in ordering]

        reverse = cursor is not None and cursor[0]
        scan_ordering = reversed_ordering if reverse else ordering
        # "After this row" in the order rows are read: `<` when the scan goes down the index.
        after = "<" if descending != reverse else ">"
        bounded = self.get_bounded_scan(view)
        if cursor is not None:
            values = [
                Value(value, output_field=_model_field(queryset.model, field))
                for value, field in zip(cursor[1], ordering, strict=True)
            ]
            position = RowComparison(columns, values, operator=after)
            queryset = queryset.filter(position)
            if bounded is not None:
                bounded = replace(bounded, base=bounded.base.filter(position))

        queryset = queryset.order_by(*scan_ordering)
        if bounded is None:
            rows = list(queryset[: page_size + 1])
        else:
            rows = fetch_bounded(queryset, bounded, ordering=scan_ordering, after=after, limit=page_size + 1)
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
