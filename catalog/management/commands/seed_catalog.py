"""`manage.py seed_catalog --products N [--categories M]`: load a deterministic demo catalog fast.

Idempotent: product `i` is always slug `product-000001`… with the same content, options,
variants and opening stock (see `catalog.seeding` and `catalog.seeding_variants`), rows that
already exist are skipped, and inserts also carry `ON CONFLICT DO NOTHING`, so re-running with
the same N creates nothing and two concurrent runs cannot collide.

A product, its options, its variants and the `import` ledger rows of their opening stock are
written together, in one transaction: a product that exists has all of its children, so a run
that stops part-way is resumed by running it again, and only the products a run inserts itself
get children (never a second set of variants or ledger rows).

On PostgreSQL a batch is `COPY`ed (psycopg 3 `cursor.copy`) into temporary tables and moved over
by ONE statement of chained `INSERT … ON CONFLICT DO NOTHING RETURNING` (products, then the
options and variants of the products that statement inserted, then the ledger rows of the
variants it inserted); on other databases with `bulk_create(ignore_conflicts=True)`. A progress
bar is drawn on stderr only when it is a terminal; the one-line summary is printed at
verbosity >= 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from catalog.cache import catalog_changed
from catalog.models import Category, Product, ProductOption, ProductVariant, StockMovement
from catalog.seeding import SeedProduct, category_rows, product_for, product_slug
from catalog.seeding_sql import (
    COLUMNS,
    COPY_OPTIONS_SQL,
    COPY_SQL,
    COPY_VARIANTS_SQL,
    CREATE_STAGED_CHILDREN_SQL,
    CREATE_STAGING_SQL,
    EXISTING_SLUGS_SQL,
    FOREIGN_KEYS_SQL,
    MOVE_STAGED_SQL,
    SECONDARY_INDEXES_SQL,
    SEEDED_TABLES,
    TRUNCATE_STAGED_SQL,
)
from catalog.seeding_variants import SEED_NOTE, SeedVariants, variants_for

Seed = tuple[SeedProduct, SeedVariants]

# At least this many new rows on PostgreSQL: drop the secondary indexes and the foreign keys of the
# seeded tables, load, then rebuild the indexes and add the foreign keys back (each checked by one
# join instead of a trigger per row).
BULK_LOAD_ROWS = 100_000


@dataclass
class Created:
    """What a run (or a batch) inserted."""

    products: int = 0
    variants: int = 0
    movements: int = 0

    def add(self, other: Created) -> None:
        self.products += other.products
        self.variants += other.variants
        self.movements += other.movements


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
        created = Created()
        # A large load is one transaction that drops the secondary indexes and rebuilds them at the
        # end (a GIN trigram index is far cheaper to build once than to update a million times),
        # and the same for the foreign keys. If the run dies, everything rolls back, the indexes
        # and foreign keys included.
        with transaction.atomic() if bulk else contextlib.nullcontext():
            rebuild = [*self._drop_foreign_keys(), *self._drop_secondary_indexes()] if bulk else []
            for first in range(1, products + 1, batch_size):
                last = min(first + batch_size - 1, products)
                created.add(self._seed_batch(first, last, categories=categories, category_ids=category_ids))
                if bar is not None:
                    bar.advance(last - first + 1)
            if bar is not None:
                bar.close()
            if rebuild:
                self._rebuild_indexes(rebuild, verbose=verbosity >= 1 and sys.stderr.isatty())
        catalog_changed()  # after the commit: no cached catalog page from before the load is served
        if verbosity >= 1:
            self.stdout.write(
                f"seed_catalog: {created.products:,} products and {categories_created} categories created "
                f"({products - created.products:,} products already there), with {created.variants:,} "
                f"variants and {created.movements:,} stock movements, in {time.monotonic() - started:.1f}s"
            )

    @staticmethod
    def _drop_secondary_indexes() -> list[str]:
        """Drop the non-unique indexes of the seeded tables (PostgreSQL); returns their CREATE statements."""
        with connection.cursor() as cursor:
            cursor.execute(SECONDARY_INDEXES_SQL, [list(SEEDED_TABLES)])
            found = [(str(name), str(definition)) for name, definition in cursor.fetchall()]
            for name, _ in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [definition for _, definition in found]

    @staticmethod
    def _drop_foreign_keys() -> list[str]:
        """Drop the foreign keys the seeded tables hold (PostgreSQL); returns the statements that
        add them back."""
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(FOREIGN_KEYS_SQL, [list(SEEDED_TABLES)])
            found = [
                (str(table), str(name), str(definition)) for table, name, definition in cursor.fetchall()
            ]
            for table, name, _ in found:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        return [
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
            for table, name, definition in found
        ]

    def _rebuild_indexes(self, definitions: list[str], *, verbose: bool) -> None:
        with connection.cursor() as cursor:
            # Run any deferred foreign-key checks now: PostgreSQL won't build an index on a table
            # with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for definition in definitions:
                if verbose:
                    self.stderr.write(f"rebuilding: {definition}")
                cursor.execute(definition)
            # Fresh statistics, so the planner picks the indexes for the new size right away.
            for table in SEEDED_TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

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

    def _seed_batch(self, first: int, last: int, *, categories: int, category_ids: list[int]) -> Created:
        """Insert products `first..last` that are not there yet, with their options, variants and
        opening stock; returns what was inserted."""
        slugs = [product_slug(number) for number in range(first, last + 1)]
        existing = self._existing(slugs)
        missing = [n for n, slug in zip(range(first, last + 1), slugs, strict=True) if slug not in existing]
        if not missing:
            return Created()
        seeds: list[Seed] = []
        for number in missing:
            row = product_for(number, categories=categories)
            seeds.append((row, variants_for(number, row)))
        with transaction.atomic():
            if connection.vendor == "postgresql":
                return self._copy_rows(seeds, category_ids)
            return self._create_models(seeds, category_ids)

    @staticmethod
    def _existing(slugs: list[str]) -> set[str]:
        """Which of `slugs` are taken. On PostgreSQL one array parameter: planning an `IN` of
        20,000 parameters costs more than the lookup (18 s of a million-product load)."""
        if connection.vendor != "postgresql":
            return set(Product.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(EXISTING_SLUGS_SQL, [slugs])
            return {str(slug) for (slug,) in cursor.fetchall()}

    @staticmethod
    def _values(row: SeedProduct, plan: SeedVariants, category_ids: list[int]) -> tuple[Any, ...]:
        return (
            row.name,
            row.slug,
            row.description,
            plan.unit_amount,  # the lowest active variant's, as product_sync sets it
            settings.DEFAULT_CURRENCY,
            row.is_active,
            category_ids[row.category_index],
            "",  # no image URL: seeded products have no pictures (seed_demo stores real ones)
            row.created_at,
            row.created_at,
        )

    def _copy_rows(self, seeds: Sequence[Seed], category_ids: list[int]) -> Created:
        """COPY into temporary tables, then one chained INSERT … ON CONFLICT DO NOTHING (PostgreSQL)."""
        with connection.cursor() as cursor:
            cursor.execute(CREATE_STAGING_SQL)
            for statement in CREATE_STAGED_CHILDREN_SQL:
                cursor.execute(statement)
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(COPY_SQL) as copy:
                for row, plan in seeds:
                    copy.write_row(self._values(row, plan, category_ids))
            with raw.copy(COPY_OPTIONS_SQL) as copy:
                for row, plan in seeds:
                    for position, (name, values) in enumerate(plan.options):
                        copy.write_row((row.slug, name, json.dumps(values), position))
            with raw.copy(COPY_VARIANTS_SQL) as copy:
                for row, plan in seeds:
                    for v in plan.variants:
                        options = json.dumps(v.options) if v.options else "{}"
                        copy.write_row(
                            (
                                row.slug,
                                v.sku,
                                options,
                                v.unit_amount,
                                v.is_active,
                                v.stock_on_hand,
                                v.position,
                            )
                        )
            cursor.execute(MOVE_STAGED_SQL, [StockMovement.Reason.IMPORT.value, SEED_NOTE])
            products, variants, movements = cursor.fetchone()
            # Only dropped at commit; inside an outer transaction the next batch reuses the tables.
            cursor.execute(TRUNCATE_STAGED_SQL)
            return Created(int(products), int(variants), int(movements))

    def _create_models(self, seeds: Sequence[Seed], category_ids: list[int]) -> Created:
        """The same with the ORM (other databases). Children go to the batch's products that have
        no variant yet: the products this transaction inserted, it holding the write lock (SQLite)."""
        before = Product.objects.count(), ProductVariant.objects.count()
        Product.objects.bulk_create(
            [
                Product(**dict(zip(COLUMNS, self._values(row, plan, category_ids), strict=True)))
                for row, plan in seeds
            ],
            batch_size=2_000,
            ignore_conflicts=True,
        )
        ids = dict(
            Product.objects.filter(
                slug__in=[row.slug for row, _ in seeds], variants__isnull=True
            ).values_list("slug", "id")
        )
        fresh = [(ids[row.slug], row, plan) for row, plan in seeds if row.slug in ids]
        ProductOption.objects.bulk_create(
            [
                ProductOption(product_id=pk, name=name, values=list(values), position=position)
                for pk, _, plan in fresh
                for position, (name, values) in enumerate(plan.options)
            ],
            batch_size=2_000,
            ignore_conflicts=True,
        )
        ProductVariant.objects.bulk_create(
            [
                ProductVariant(
                    product_id=pk,
                    sku=v.sku,
                    options=v.options,
                    unit_amount=v.unit_amount,
                    currency=settings.DEFAULT_CURRENCY,
                    is_active=v.is_active,
                    stock_on_hand=v.stock_on_hand,
                    position=v.position,
                )
                for pk, _, plan in fresh
                for v in plan.variants
            ],
            batch_size=2_000,
            ignore_conflicts=True,
        )
        stocked = ProductVariant.objects.filter(product_id__in=list(ids.values()), stock_on_hand__gt=0)
        movements = StockMovement.objects.bulk_create(
            [
                StockMovement(
                    variant_id=pk,
                    delta=on_hand,
                    on_hand_after=on_hand,
                    reason=StockMovement.Reason.IMPORT,
                    note=SEED_NOTE,
                )
                for pk, on_hand in stocked.values_list("pk", "stock_on_hand")
                if on_hand  # filtered above; for the type checker
            ],
            batch_size=2_000,
        )
        return Created(
            Product.objects.count() - before[0], ProductVariant.objects.count() - before[1], len(movements)
        )
