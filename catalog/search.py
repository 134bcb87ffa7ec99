"""Product search: what `?search=` matches, the SQL one trigram index serves, and how a page is read.

Semantics: every word must occur, case-insensitively, as a substring of the product's name or of
its description. DRF's smart split makes the words, so a quoted phrase is one word; whitespace
inside a phrase matches a single space.

The SQL: each word with three letters or digits in a row (or two beside punctuation inside the
word, as in "Wi-Fi"; `is_indexed`) is one `UPPER(name || chr(31) || description) LIKE
UPPER('%word%')` (Django's `icontains` on `SearchDocument`), which the trigram GIN index
`product_search_document_trgm` (migration 0003) serves; all the words of a search go to that one
index together, and PostgreSQL intersects them inside a single index scan. The unit separator
`chr(31)` cannot occur in a word (the split removes it), so no word matches across the end of
the name and the start of the description.

A shorter word gives pg_trgm no trigram to look up: "pc" or "4k" can only be checked row by
row. Such words are kept (they still narrow the results) but as plain per-column conditions, so
they never make the index scan read every entry; and a search made only of such words is
refused (400), because on a large catalog it is a scan of the whole table that anyone could ask
for in a loop.

A search page is read in bounded steps (`product_search_scan`, `fetch_bounded`): a walk of at
most `SEARCH_WINDOW_ROWS` products in page order first, the trigram index for what is left, under
a time limit. The keyset paginator (`shopapi.pagination`) runs it as the page's `fetch`.
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.db.models import F, Func, Q, QuerySet, TextField
from django.db.models.lookups import IContains

from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError
from shopapi.pagination import PageQuery, row_position, strip_direction

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_TERMS = 8
# Fewer consecutive letters/digits than this give pg_trgm nothing to look up.
SEARCH_MIN_INDEXED_RUN = 3
# How many products, in page order, a search page walks before it asks the trigram index instead
# (`fetch_bounded`; the choice of value is in docs/benchmarks.md).
SEARCH_WINDOW_ROWS = 3000
DOCUMENT_SEPARATOR = 31  # chr(31), the ASCII unit separator


class SearchDocument(Func):
    """`name || CHR(31) || description`: the text one trigram index holds for each product."""

    template = "(%(expressions)s)"
    arg_joiner = f" || CHR({DOCUMENT_SEPARATOR}) || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("name"), F("description"))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        joiner = f" || CHAR({DOCUMENT_SEPARATOR}) || "
        return self.as_sql(compiler, connection, arg_joiner=joiner, **extra_context)


def normalize_terms(terms: list[str]) -> list[str]:
    """Whitespace runs (inside quoted phrases too) become one space; empty words are dropped."""
    normalized = (" ".join(term.split()) for term in terms)
    return [term for term in normalized if term]


def is_indexed(term: str) -> bool:
    """True when pg_trgm can extract a useful trigram from `LIKE '%term%'`.

    pg_trgm works on runs of word characters (letters, combining marks, digits on a UTF-8
    database; `_word_runs`). A run of 3 gives a trigram of its own. A run of 2 gives one when
    the pattern shows where the word ends or starts — punctuation or a space next to it inside
    the term, as in "Wi-Fi" (`wi `, ` fi`); at the term's edges the `%` wildcard hides that.
    A single character never gives a selective trigram.
    """
    for start, end in _word_runs(term):
        if end - start >= SEARCH_MIN_INDEXED_RUN:
            return True
        if end - start == SEARCH_MIN_INDEXED_RUN - 1 and (start > 0 or end < len(term)):
            return True
    return False


def _word_runs(term: str) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for index, char in enumerate(term):
        if unicodedata.category(char)[0] in "LMN":
            start = index if start is None else start
        elif start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(term)))
    return runs


def search_condition(terms: list[str]) -> Q:
    """Every word in the name or the description; long words through the index, short ones not."""
    conditions = [
        Q(IContains(SearchDocument(), term))
        if is_indexed(term)
        else Q(name__icontains=term) | Q(description__icontains=term)
        for term in terms
    ]
    return reduce(operator.and_, conditions)


# -- reading a search page in bounded steps (PostgreSQL) --------------------------------------


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

    def fetch_page(self, page: PageQuery) -> list[Any]:
        """A keyset page (`shopapi.pagination.PageFetch`): the base is positioned at the cursor too."""
        base = self.base if page.position is None else self.base.filter(page.position)
        return fetch_bounded(
            page.queryset,
            replace(self, base=base),
            ordering=page.ordering,
            after=page.after,
            limit=page.limit,
        )


def product_search_scan(base: QuerySet[Any]) -> BoundedScan:
    """The plan for a page of searched products: `base` is the list before the search filter."""
    return BoundedScan(
        base=base,
        window_rows=SEARCH_WINDOW_ROWS,
        timeout_ms=settings.SEARCH_TIMEOUT_MS,
        too_long=DomainError(
            "This search takes too long to answer: add a longer or rarer word, or a filter.",
            code=ErrorCode.SEARCH_TOO_BROAD,
            field="search",
        ),
    )


QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout (or a cancel request)


def _with_planner_settings(using: str, planner: dict[str, str], fetch: Callable[[], list[Any]]) -> list[Any]:
    """`fetch()` with planner settings `SET LOCAL` (one `set_config(..., true)` round trip).

    Without an outer transaction they live in a transaction of their own. Inside one (a test, or
    `ATOMIC_REQUESTS`) they live in a savepoint that is rolled back afterwards: these are reads,
    and the rollback is what restores exactly the values the outer transaction had.
    """

    def run() -> list[Any]:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in planner),
                [item for name, value in planner.items() for item in (name, value)],
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

    PostgreSQL must choose between walking the ordering's index and filtering (fast when matches
    are dense) and collecting every match from the trigram index and sorting them (fast when they
    are rare), and it cannot tell which, because its estimate for `LIKE '%word%'` is a constant;
    a wrong guess costs seconds on a large catalog. So the choice is not left to it:

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
    boundary = list(
        scan.base.order_by(*ordering).values_list(*(strip_direction(f) for f in ordering))[
            scan.window_rows - 1 : scan.window_rows
        ]
    )
    walk = {"enable_bitmapscan": "off"}
    if not boundary:  # fewer rows than a window are left: walk them all
        return _with_planner_settings(queryset.db, walk, lambda: list(queryset[:limit]))
    model = queryset.model
    within = queryset.filter(
        row_position(model, ordering, boundary[0], operator=f"{'>' if after == '<' else '<'}=")
    )
    rows = _with_planner_settings(queryset.db, walk, lambda: list(within[:limit]))
    if len(rows) == limit:
        return rows
    planner = {"enable_indexscan": "off"}
    if scan.timeout_ms is not None:
        planner["statement_timeout"] = str(int(scan.timeout_ms))
    # The two steps are two statements: a row whose sort key changed in between must not come twice.
    beyond = queryset.filter(row_position(model, ordering, boundary[0], operator=after)).exclude(
        pk__in=[row.pk for row in rows]
    )
    try:
        rows.extend(_with_planner_settings(queryset.db, planner, lambda: list(beyond[: limit - len(rows)])))
    except OperationalError as exc:
        if scan.too_long is None or getattr(exc.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        raise scan.too_long from None
    return rows
