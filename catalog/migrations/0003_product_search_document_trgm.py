"""PostgreSQL only: one trigram GIN index on the whole search document replaces the two per column.

`catalog/search.py` matches each word of a search against `UPPER((name || CHR(31) ||
description)::text)`, which is what Django compiles `IContains(SearchDocument(), word)` to; the
index is on exactly that expression, so every word of a search is answered by one index scan that
intersects them (two per-column indexes needed a bitmap OR per word and an AND of those, which
read each common word's whole posting lists). Built CONCURRENTLY so a live catalog keeps taking
writes (hence `atomic = False`); the old indexes go only once the new one is valid.
"""

from django.db import migrations

NEW_INDEX = "product_search_document_trgm"
NEW_INDEX_SQL = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NEW_INDEX} ON catalog_product "
    "USING gin ((UPPER((name || CHR(31) || description)::text)) gin_trgm_ops)"
)
OLD_INDEXES = {
    "product_name_upper_trgm": "name",
    "product_description_upper_trgm": "description",
}


def use_the_document_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(NEW_INDEX_SQL)
    for index in OLD_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")


def use_the_column_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, column in OLD_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON catalog_product "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NEW_INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0002_product_search_trigram"),
    ]

    operations = [
        migrations.RunPython(use_the_document_index, use_the_column_indexes, elidable=False),
    ]
