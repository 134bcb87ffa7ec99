"""Helpers for the trigram index migrations (a leading underscore: not a migration itself)."""

from __future__ import annotations

from typing import Any

DOCUMENT_INDEX = "product_search_document_trgm"


def index_is_valid(connection: Any, name: str) -> bool | None:
    """True/False for a valid/invalid index `name`, None when there is none.

    `CREATE INDEX CONCURRENTLY` that is interrupted leaves an INVALID index behind, which
    `IF NOT EXISTS` would take for a finished one.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def create_trigram_index(schema_editor: Any, name: str, expression: str) -> None:
    """`CREATE INDEX CONCURRENTLY` a trigram GIN index on `expression`, replacing an INVALID one."""
    if index_is_valid(schema_editor.connection, name) is False:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON catalog_product "
        f"USING gin (({expression}) gin_trgm_ops)"
    )
