"""PostgreSQL only: one trigram GIN index on the whole search document.

`catalog/search.py` matches each word of a search against `UPPER((name || CHR(31) ||
description)::text)`, which is what Django compiles `IContains(SearchDocument(), word)` to; the
index is on exactly that expression, so every word of a search is answered by one index scan that
intersects them (the two per-column indexes of 0002 needed a bitmap OR per word and an AND of
those, reading each common word's whole posting lists). 0004 drops those two, once this one is
valid: for a rolling deploy, `migrate catalog 0003` before the new code and `migrate` after.

Built CONCURRENTLY so a live catalog keeps taking writes (hence `atomic = False`). An interrupted
concurrent build leaves an INVALID index that `IF NOT EXISTS` would accept; it is dropped and
built again.
"""

from django.db import migrations

from catalog.migrations._trigram import DOCUMENT_INDEX as INDEX
from catalog.migrations._trigram import create_trigram_index



def create_document_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    create_trigram_index(schema_editor, INDEX, "UPPER((name || CHR(31) || description)::text)")


def drop_document_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0002_product_search_trigram"),
    ]

    operations = [
        migrations.RunPython(create_document_index, drop_document_index, elidable=False),
    ]
