"""PostgreSQL only: drop 0002's per-column trigram indexes, now that 0003's index serves search.

Refuses to run unless `product_search_document_trgm` exists and is valid, so search is never left
without an index. Reversing rebuilds the per-column indexes (CONCURRENTLY) for the old code.
"""

from django.db import migrations

from catalog.migrations import _trigram

OLD_INDEXES = {
    "product_name_upper_trgm": "name",
    "product_description_upper_trgm": "description",
}


def drop_column_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    if not _trigram.index_is_valid(schema_editor.connection, _trigram.DOCUMENT_INDEX):
        raise RuntimeError(
            f"{_trigram.DOCUMENT_INDEX} is missing or invalid: run migration catalog 0003 again first"
        )
    for index in OLD_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")


def create_column_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, column in OLD_INDEXES.items():
        _trigram.create_trigram_index(schema_editor, index, f"UPPER({column}::text)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0003_product_search_document_trgm"),
    ]

    operations = [
        migrations.RunPython(drop_column_indexes, create_column_indexes, elidable=False),
    ]
