"""`manage.py seed_catalog --products N [--categories M]`: load a deterministic demo catalog fast.

Idempotent: product `i` is always slug `product-000001`… with the same content (see
`catalog.seeding`), rows that already exist are skipped, and inserts also carry
`ON CONFLICT DO NOTHING`, so re-running with the same N creates nothing and two concurrent runs
cannot collide. Batches are loaded with PostgreSQL `COPY` (psycopg 3 `cursor.copy`) into a
temporary table and moved over with `INSERT … SELECT … ON CONFLICT (slug) DO NOTHING`; on other
databases with `bulk_create(ignore_conflicts=True)`. A progress bar is drawn on stderr only when
it is a terminal; the one-line summary is printed at verbosity >= 1.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from catalog.models import Category, Product
from catalog.seeding import SeedProduct, category_rows, product_for, product_slug

COLUMNS = (
    "name",
    "slug",
    "description",
    "unit_amount",
    "currency",
    "is_active",
    "category_id",
    "image_url",
    "created_at",
    "updated_at",
)

# At least this many new rows on PostgreSQL: drop the secondary indexes, load, rebuild them.
BULK_LOAD_ROWS = 100_000
SECONDARY_INDEXES_SQL = """
    SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
    FROM pg_index
    WHERE indrelid = 'catalog_product'::regclass AND NOT indisunique AND NOT indisprimary
"""

# Built from the constant COLUMNS only: no input reaches these statements.
_COLUMN_LIST = ", ".join(COLUMNS)
CREATE_STAGING_SQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS seed_catalog_product ON COMMIT DROP AS "  # noqa: S608
    f"SELECT {_COLUMN_LIST} FROM catalog_product WITH NO DATA"
)
COPY_SQL = f"COPY seed_catalog_product ({_COLUMN_LIST}) FROM STDIN"
MOVE_STAGED_SQL = (
    f"INSERT INTO catalog_product ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} "  # noqa: S608
    "FROM seed_catalog_product ON CONFLICT (slug) DO NOTHING"
)


class ProgressBar:
    """A one-line `[#####.....]  45%  450,000/1,000,000  12.3s` bar, redrawn at most 10 times a second."""

    width = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.done = 0
        self.started = time.monotonic()
        self.drawn_at = 0.0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.drawn_at >= 0.1 or self.done >= self.total:
            self.drawn_at = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        fraction = min(self.done / self.total, 1.0)
        filled = int(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {fraction:4.0%}  {self.done:,}/{self.total:,}  {now - self.started:.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Create N deterministic demo products in M categories (idempotent, batched, fast)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=100, help="How many products (default 100).")
        parser.add_argument("--categories", type=int, default=10, help="How many categories (default 10).")
        parser.add_argument(
            "--batch-size", type=int, default=20_000, help="Rows per insert batch (default 20,000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        products: int = options["products"]
        categories: int = options["categories"]
        batch_size: int = options["batch_size"]
        verbosity: int = options["verbosity"]
        if products < 0 or categories < 1 or batch_size < 1:
            raise CommandError("--products must be >= 0, --categories and --batch-size >= 1.")

        started = time.monotonic()
        category_ids, categories_created = self._seed_categories(categories)
        bar = ProgressBar(products, sys.stderr) if verbosity >= 1 and sys.stderr.isatty() else None
        bulk = connection.vendor == "postgresql" and products - Product.objects.count() >= BULK_LOAD_ROWS
        created = 0
        # A large load is one transaction that drops the secondary indexes and rebuilds them at the
        # end (a GIN trigram index is far cheaper to build once than to update a million times).
        # If the run dies, everything rolls back, the indexes included.
        with transaction.atomic() if bulk else contextlib.nullcontext():
            rebuild = self._drop_secondary_indexes() if bulk else []
            for first in range(1, products + 1, batch_size):
                last = min(first + batch_size - 1, products)
                created += self._seed_batch(first, last, categories=categories, category_ids=category_ids)
                if bar is not None:
                    bar.advance(last - first + 1)
            if bar is not None:
                bar.close()
            if rebuild:
                self._rebuild_indexes(rebuild, verbose=verbosity >= 1 and sys.stderr.isatty())
        if verbosity >= 1:
            self.stdout.write(
                f"seed_catalog: {created:,} products and {categories_created} categories created "
                f"({products - created:,} products already there) in {time.monotonic() - started:.1f}s"
            )

    @staticmethod
    def _drop_secondary_indexes() -> list[str]:
        """Drop catalog_product's non-unique indexes (PostgreSQL); returns their CREATE statements."""
        with connection.cursor() as cursor:
            cursor.execute(SECONDARY_INDEXES_SQL)
            found = [(str(name), str(definition)) for name, definition in cursor.fetchall()]
            for name, _ in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [definition for _, definition in found]

    def _rebuild_indexes(self, definitions: list[str], *, verbose: bool) -> None:
        with connection.cursor() as cursor:
            # Run the deferred foreign-key checks now: PostgreSQL won't build an index on a table
            # with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for definition in definitions:
                if verbose:
                    self.stderr.write(f"rebuilding: {definition}")
                cursor.execute(definition)
            # Fresh statistics, so the planner picks the indexes for the new size right away.
            cursor.execute("ANALYZE catalog_product")

    def _seed_categories(self, count: int) -> tuple[list[int], int]:
        rows = category_rows(count)
        slugs = [slug for _, slug in rows]
        existing = set(Category.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        Category.objects.bulk_create(
            [Category(name=name, slug=slug) for name, slug in rows if slug not in existing],
            ignore_conflicts=True,
        )
        by_slug = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "id"))
        return [by_slug[slug] for slug in slugs], len(by_slug) - len(existing)

    def _seed_batch(self, first: int, last: int, *, categories: int, category_ids: list[int]) -> int:
        """Insert products `first..last` that are not there yet; returns how many were inserted."""
        slugs = [product_slug(number) for number in range(first, last + 1)]
        existing = set(Product.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        missing = [n for n, slug in zip(range(first, last + 1), slugs, strict=True) if slug not in existing]
        if not missing:
            return 0
        rows = (product_for(number, categories=categories) for number in missing)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                return self._copy_rows(rows, category_ids)
            before = Product.objects.count()
            Product.objects.bulk_create(
                (self._model(row, category_ids) for row in rows), batch_size=2_000, ignore_conflicts=True
            )
            return Product.objects.count() - before

    @staticmethod
    def _values(row: SeedProduct, category_ids: list[int]) -> tuple[Any, ...]:
        return (
            row.name,
            row.slug,
            row.description,
            row.unit_amount,
            settings.DEFAULT_CURRENCY,
            row.is_active,
            category_ids[row.category_index],
            f"https://cdn.example.com/catalog/{row.slug}.jpg",
            row.created_at,
            row.created_at,
        )

    def _model(self, row: SeedProduct, category_ids: list[int]) -> Product:
        product = Product(**dict(zip(COLUMNS, self._values(row, category_ids), strict=True)))
        return product

    def _copy_rows(self, rows: Iterator[SeedProduct], category_ids: list[int]) -> int:
        """COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING (PostgreSQL)."""
        with connection.cursor() as cursor:
            cursor.execute(CREATE_STAGING_SQL)
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(COPY_SQL) as copy:
                for row in rows:
                    copy.write_row(self._values(row, category_ids))
            cursor.execute(MOVE_STAGED_SQL)
            inserted = int(cursor.rowcount)
            # Only dropped at commit; inside an outer transaction the next batch reuses the table.
            cursor.execute("TRUNCATE seed_catalog_product")
            return inserted
