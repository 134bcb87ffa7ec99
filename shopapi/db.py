"""Prepared statements for the hottest fixed-shape statements: planned once per connection.

Django sends every statement as text with its parameters written in (psycopg's client-side
binding, `prepare_threshold=None`), so PostgreSQL parses and plans each one afresh on every
request. For the statements of a webhook delivery, of an order page and of a cart read, planning
was a fifth to a quarter of PostgreSQL's CPU (the order page's query: ~0.6 ms of planning for
~1.6 ms of execution), and nothing about them changes from one request to the next but the ids.

Inside `prepared_statements()`, the connection's cursors bind parameters on the server and
prepare what they run (psycopg's `prepare=True`): the first execution on a connection prepares
the statement, later ones reuse it. After five executions PostgreSQL may keep one generic plan
for it, which is why this is opt-in, block by block: use it only around statements whose best
plan does not depend on the values (primary-key lookups and writes, one owner's rows, a cart's
lines). Never around catalog filters or search, whose plans depend on the terms.

Outside a block nothing changes: client-side binding, nothing prepared. The block does nothing
on SQLite; with `CONN_MAX_AGE=0` (a connection per request: preparing would only add a round trip
per statement); and with `DATABASE_PREPARED_STATEMENTS=0`, for a pooler in transaction mode that
cannot keep them (PgBouncer before 1.22: psycopg sends `DEALLOCATE ALL` after every rollback).

A migration that changes the type of a column a prepared statement returns makes that statement
fail ("cached plan must not change result type") on the connections that prepared it, until they
are recycled (`CONN_MAX_AGE`): run such a migration with the web processes restarted after it
(README "Scaling out").
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


@functools.cache
def _preparing_cursor() -> type:
    """psycopg's server-binding cursor as Django configures it, preparing every statement."""
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]  # psycopg 3 only
        ServerBindingCursor,
    )

    class PreparingCursor(ServerBindingCursor):
        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any
        ) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)

        def _convert_query(self, query: Any, params: Any = None) -> Any:
            # Kept where Django's `last_executed_query` reads it (psycopg keeps it only for its
            # client-binding cursors): debug logs and CaptureQueriesContext see the SQL, with
            # `$1`-style placeholders instead of the values.
            self._query = converted = super()._convert_query(query, params)
            return converted

    return PreparingCursor


_ONLY_WHEN_ASKED = 2**31 - 1


@contextmanager
def prepared_statements(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Prepare the statements run in this block on `using`'s connection (see the module docstring).

    Nesting is fine; the connection's own cursors come back when the outermost block ends.
    """
    connection = connections[using]
    if (
        connection.vendor != "postgresql"
        or not settings.DATABASE_PREPARED_STATEMENTS
        or connection.settings_dict.get("CONN_MAX_AGE") == 0
    ):
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.cursor_factory, raw.prepare_threshold
    # psycopg prepares nothing, even when asked, while the threshold is None (Django's default);
    # a threshold no count reaches prepares only what the cursor asks for.
    raw.cursor_factory, raw.prepare_threshold = _preparing_cursor(), _ONLY_WHEN_ASKED
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = previous
