"""The SQL of `manage.py seed_catalog`'s PostgreSQL load: staging tables, COPY, and the one statement
that moves a batch over (products, then the options, variants and opening stock of the products
it inserted), and the catalogue queries a large load uses to drop and restore indexes and
foreign keys. Built from constants only: no input reaches these statements (values travel as
parameters or through COPY).
"""

from __future__ import annotations

# The product columns the seeding writes, in COPY order.
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

# What a large load writes to: their secondary indexes and foreign keys are dropped and restored.
SEEDED_TABLES = (
    "catalog_product",
    "catalog_productoption",
    "catalog_productvariant",
    "catalog_stockmovement",
)
SECONDARY_INDEXES_SQL = """
    SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
    FROM pg_index
    WHERE indrelid = ANY(%s::regclass[]) AND NOT indisunique AND NOT indisprimary
"""
FOREIGN_KEYS_SQL = """
    SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
    FROM pg_constraint
    WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'
"""

# Built from the constant COLUMNS only: no input reaches these statements.
_COLUMN_LIST = ", ".join(COLUMNS)
CREATE_STAGING_SQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS seed_catalog_product ON COMMIT DROP AS "  # noqa: S608
    f"SELECT {_COLUMN_LIST} FROM catalog_product WITH NO DATA"
)
COPY_SQL = f"COPY seed_catalog_product ({_COLUMN_LIST}) FROM STDIN"
CREATE_STAGED_CHILDREN_SQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS seed_catalog_option (product_slug text, name text, "
    '"values" jsonb, position integer) ON COMMIT DROP',
    "CREATE TEMPORARY TABLE IF NOT EXISTS seed_catalog_variant (product_slug text, sku text, "
    "options jsonb, unit_amount integer, is_active boolean, stock_on_hand integer, position integer) "
    "ON COMMIT DROP",
)
COPY_OPTIONS_SQL = 'COPY seed_catalog_option (product_slug, name, "values", position) FROM STDIN'
COPY_VARIANTS_SQL = (
    "COPY seed_catalog_variant (product_slug, sku, options, unit_amount, is_active, stock_on_hand, position) "
    "FROM STDIN"
)
# One statement: the products, then the children of those IT inserted (a product another run or
# an earlier one inserted is skipped with its children), then the opening stock of the variants
# it inserted. Variants and ledger rows take the product's `created_at`.
MOVE_STAGED_SQL = f"""
    WITH new_products AS (
        INSERT INTO catalog_product ({_COLUMN_LIST}, requires_shipping)
        SELECT {_COLUMN_LIST}, TRUE FROM seed_catalog_product
        ON CONFLICT (slug) DO NOTHING RETURNING id, slug, currency, created_at
    ), new_options AS (
        INSERT INTO catalog_productoption (product_id, name, "values", position)
        SELECT p.id, o.name, o."values", o.position FROM seed_catalog_option o
        JOIN new_products p ON p.slug = o.product_slug
        ON CONFLICT (product_id, name) DO NOTHING RETURNING 1
    ), new_variants AS (
        INSERT INTO catalog_productvariant (product_id, sku, title, options, unit_amount, currency,
            is_active, stock_on_hand, position, created_at, updated_at)
        SELECT p.id, v.sku, '', v.options, v.unit_amount, p.currency, v.is_active, v.stock_on_hand,
            v.position, p.created_at, p.created_at
        FROM seed_catalog_variant v JOIN new_products p ON p.slug = v.product_slug
        ON CONFLICT (sku) DO NOTHING RETURNING id, stock_on_hand, created_at
    ), new_movements AS (
        INSERT INTO catalog_stockmovement (variant_id, delta, on_hand_after, reason, actor, note, created_at)
        SELECT id, stock_on_hand, stock_on_hand, %s, '', %s, created_at FROM new_variants
        WHERE stock_on_hand > 0 RETURNING 1
    )
    SELECT (SELECT count(*) FROM new_products), (SELECT count(*) FROM new_variants),
        (SELECT count(*) FROM new_movements)
"""  # noqa: S608
EXISTING_SLUGS_SQL = "SELECT slug FROM catalog_product WHERE slug = ANY(%s)"
TRUNCATE_STAGED_SQL = "TRUNCATE seed_catalog_product, seed_catalog_option, seed_catalog_variant"
