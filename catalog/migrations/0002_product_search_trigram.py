"""PostgreSQL only: pg_trgm + GIN trigram indexes for `search` (a no-op on SQLite).

Django compiles `name__icontains=q` on PostgreSQL to `UPPER("catalog_product"."name"::text) LIKE
UPPER(%s)`, so the indexes are on exactly that expression; a plain trigram index on `name` would
not be used. Built CONCURRENTLY so a live catalog keeps taking writes (hence `atomic = False`).
"""

from django.db import migrations

INDEXES = {
    "product_name_upper_trgm": "name",
    "product_description_upper_trgm": "description",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON catalog_product "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
