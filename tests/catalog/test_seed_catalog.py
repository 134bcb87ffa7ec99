"""`manage.py seed_catalog`: idempotent, deterministic, quiet unless asked, a believable demo shop,
every product with the variants, options and opening stock its rules say, the ledger in step."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import replace
from itertools import product as cartesian
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.management.commands import seed_catalog
from catalog.management.commands.seed_catalog import ProgressBar
from catalog.models import Category, Product, ProductOption, ProductVariant, StockMovement
from catalog.seeding import CURATED, THEMES, SeedProduct, product_for
from catalog.seeding_sql import SEEDED_TABLES
from catalog.seeding_variants import SEED_NOTE, THEME_OPTIONS, SeedVariants, variants_for
from catalog.stock import ledger_mismatches
from catalog.variants import product_sync

pytestmark = pytest.mark.django_db


def _seed(**options: int) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_catalog", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_demo_seed_is_a_small_believable_shop() -> None:
    # when: exactly what `make run` (seed_demo) calls
    out, err = _seed(products=12, categories=3, verbosity=0)
    # then
    assert (out, err) == ("", "")
    assert Category.objects.count() == 3
    assert Product.objects.count() == 12
    products = list(Product.objects.order_by("slug"))
    assert [p.slug for p in products] == [f"product-{n:06d}" for n in range(1, 13)]
    assert [p.name for p in products] == [name for name, *_ in CURATED]
    assert all(p.is_active and p.unit_amount > 0 and p.currency == "inr" for p in products)
    assert all(not p.name.lower().startswith("product") for p in products)
    assert {p.category_id for p in products} == set(Category.objects.values_list("id", flat=True))


def test_rerun_with_the_same_numbers_creates_nothing() -> None:
    # given
    _seed(products=40, categories=4, verbosity=0)
    before = list(Product.objects.order_by("id").values_list("id", "slug", "name", "unit_amount"))
    # when
    out, _ = _seed(products=40, categories=4, verbosity=1)
    # then
    assert Product.objects.count() == 40
    assert Category.objects.count() == 4
    assert list(Product.objects.order_by("id").values_list("id", "slug", "name", "unit_amount")) == before
    assert "0 products and 0 categories created (40 products already there)" in out


def test_growing_the_catalog_adds_only_the_missing_products_in_small_batches() -> None:
    # given
    _seed(products=10, categories=2, verbosity=0)
    # when: batches smaller than the run, so several batches are both old and new
    out, _ = _seed(products=25, categories=2, batch_size=4, verbosity=1)
    # then
    assert Product.objects.count() == 25
    assert Product.objects.filter(slug="product-000025").exists()
    assert "15 products and 0 categories created (10 products already there)" in out


def test_generated_products_are_deterministic_realistic_and_some_inactive() -> None:
    # when
    _seed(products=400, categories=8, verbosity=0)
    # then: every row is what product_for() says it is, at its lowest active variant's price
    for product in Product.objects.select_related("category").order_by("id")[:50]:
        number = int(product.slug.removeprefix("product-"))
        expected = product_for(number, categories=8)
        assert (product.name, product.description, product.unit_amount, product.is_active) == (
            expected.name,
            expected.description,
            variants_for(number, expected).unit_amount,
            expected.is_active,
        )
    inactive = Product.objects.filter(is_active=False).count()
    assert 5 <= inactive <= 40  # about 5 %
    assert Product.objects.filter(unit_amount__lte=0).count() == 0
    assert Product.objects.values("category").distinct().count() == 8
    assert len(set(Product.objects.values_list("name", flat=True))) > 300


def test_quiet_without_a_terminal() -> None:
    # when: stderr is a StringIO, not a terminal
    out, err = _seed(products=30, categories=3, verbosity=1)
    # then: one summary line, no progress bar
    assert err == ""
    assert out.count("\n") == 1
    assert out.startswith("seed_catalog: 30 products and 3 categories created")


def test_progress_bar_draws_on_a_stream() -> None:
    # given
    stream = io.StringIO()
    bar = ProgressBar(200, stream)
    # when
    bar.advance(100)
    bar.advance(100)
    bar.close()
    # then
    text = stream.getvalue()
    assert "200/200" in text
    assert "100%" in text
    assert text.endswith("\n")


@pytest.mark.parametrize("options", [{"products": -1}, {"categories": 0}, {"batch_size": 0}])
def test_bad_options(options: dict[str, int]) -> None:
    with pytest.raises(CommandError):
        _seed(verbosity=0, **{"products": 5, "categories": 2, **options})
    assert Product.objects.count() == 0


def test_more_categories_than_named_ones_get_numbered_collections() -> None:
    # when
    _seed(products=60, categories=30, verbosity=0)
    # then
    assert Category.objects.count() == 30
    assert Category.objects.filter(slug="kitchen-dining").exists()
    assert Category.objects.filter(name="Collection 30", slug="collection-30").exists()


# --- variants, options and opening stock --------------------------------------------------------------


def _number(slug: str) -> int:
    return int(slug.removeprefix("product-"))


def _variant_rows() -> dict[str, list[tuple[Any, ...]]]:
    """slug -> its variants as (sku, title, options, unit_amount, is_active, stock_on_hand, position)."""
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for slug, *variant in ProductVariant.objects.order_by("product__slug", "position").values_list(
        "product__slug", "sku", "title", "options", "unit_amount", "is_active", "stock_on_hand", "position"
    ):
        rows[slug].append(tuple(variant))
    return dict(rows)


def _option_rows() -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for slug, name, values, position in ProductOption.objects.order_by(
        "product__slug", "position"
    ).values_list("product__slug", "name", "values", "position"):
        rows[slug].append((name, values, position))
    return dict(rows)


def _expected(number: int, categories: int) -> tuple[SeedProduct, SeedVariants]:
    row = product_for(number, categories=categories)
    return row, variants_for(number, row)


def _movement_counts() -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for sku in StockMovement.objects.values_list("variant__sku", flat=True):
        counts[sku] += 1
    return dict(counts)


def test_every_product_gets_the_variants_and_options_its_rules_say() -> None:
    # when
    _seed(products=400, categories=8, verbosity=0)
    # then: each product's variants and options are exactly what variants_for() says
    variants, options = _variant_rows(), _option_rows()
    assert len(variants) == 400
    for slug, rows in variants.items():
        _, plan = _expected(_number(slug), 8)
        assert rows == [
            (v.sku, "", v.options, v.unit_amount, v.is_active, v.stock_on_hand, v.position)
            for v in plan.variants
        ]
        assert options.get(slug, []) == [
            (name, list(values), position) for position, (name, values) in enumerate(plan.options)
        ]
    # most products: one default variant, SKU = slug, no options
    defaults = [slug for slug, rows in variants.items() if rows[0][2] == {}]
    assert 280 <= len(defaults) <= 360
    assert all(variants[slug] == [(slug, "", {}, *variants[slug][0][3:])] for slug in defaults)
    # a share in sizes and/or colours, one variant per combination
    kinds = {tuple(name for name, *_ in rows) for rows in options.values()}
    assert kinds == {("Size",), ("Colour",), ("Size", "Colour")}
    assert 0.1 < len(options) / len(variants) < 0.3
    for slug, rows in options.items():
        combinations = [
            dict(zip([name for name, *_ in rows], values, strict=True))
            for values in cartesian(*(values for _, values, _ in rows))
        ]
        assert [row[2] for row in variants[slug]] == combinations
    sized = [slug for slug, rows in options.items() if rows[0][:2] == ("Size", ["S", "M", "L"])]
    assert sized
    for slug in sized:
        amounts = (
            [row[3] for row in variants[slug] if row[2]["Size"] == "S"],
            [row[3] for row in variants[slug] if row[2]["Size"] == "L"],
        )
        assert max(amounts[0]) < min(amounts[1])  # a larger size costs a little more
    # stock: most tracked, some untracked, some sold out, some low
    on_hand = [row[5] for rows in variants.values() for row in rows]
    assert 0.7 < sum(value is not None for value in on_hand) / len(on_hand) < 0.95
    assert 0 in on_hand
    assert any(value is not None and 1 <= value <= 5 for value in on_hand)
    # some products have a first value (size S, a colour) discontinued
    assert any(not row[4] for rows in variants.values() for row in rows)


def test_every_theme_has_its_options_rule() -> None:
    # then: a theme added to the names' vocabulary can't be seeded without saying its options
    assert set(THEME_OPTIONS) == set(THEMES)


def test_the_ledger_sums_to_on_hand_with_one_import_row_per_stocked_variant() -> None:
    # when
    _seed(products=300, categories=8, verbosity=0)
    # then
    assert ledger_mismatches() == []
    movements = list(StockMovement.objects.select_related("variant"))
    stocked = ProductVariant.objects.filter(stock_on_hand__gt=0)
    assert sorted(m.variant.sku for m in movements) == sorted(stocked.values_list("sku", flat=True))
    assert all(
        (m.reason, m.delta, m.on_hand_after, m.note, m.order_id, m.actor)
        == ("import", m.variant.stock_on_hand, m.variant.stock_on_hand, SEED_NOTE, None, "")
        for m in movements
    )
    # untracked and sold-out variants have no ledger row
    assert not StockMovement.objects.filter(variant__stock_on_hand__isnull=True).exists()
    assert not StockMovement.objects.filter(variant__stock_on_hand=0).exists()


def _cheapest_discontinued(number: int) -> bool:
    _, plan = _expected(number, 8)
    return min(v.unit_amount for v in plan.variants) < plan.unit_amount


def test_every_product_is_priced_at_its_lowest_active_variant() -> None:
    # given: a catalog up to the first product whose cheapest variant is discontinued
    last = next(number for number in range(13, 5_000) if _cheapest_discontinued(number))
    _seed(products=max(last, 200), categories=8, verbosity=0)
    prices = dict(Product.objects.values_list("slug", "unit_amount"))
    variants = _variant_rows()
    # then: the price is the lowest active variant's, there too
    for slug, rows in variants.items():
        assert prices[slug] == min(row[3] for row in rows if row[4])
    assert prices[f"product-{last:06d}"] > min(row[3] for row in variants[f"product-{last:06d}"])
    # when: the variants' own price sync runs over every product
    product_sync(Product.objects.values_list("pk", flat=True))
    # then: nothing moves
    assert dict(Product.objects.values_list("slug", "unit_amount")) == prices


def test_resuming_creates_no_second_variant_or_ledger_row() -> None:
    # given: a catalog seeded in small batches
    _seed(products=25, categories=2, batch_size=4, verbosity=0)
    variants, options, movements = _variant_rows(), _option_rows(), _movement_counts()
    assert len(variants) == 25
    # when: the same run again, then a bigger one overlapping it
    again, _ = _seed(products=25, categories=2, batch_size=4, verbosity=1)
    out, _ = _seed(products=40, categories=2, batch_size=6, verbosity=1)
    # then: the first 25 are untouched; the 15 new ones have theirs
    assert (
        "0 products and 0 categories created (25 products already there), with 0 variants and 0 stock"
        in again
    )
    assert "15 products and 0 categories created (25 products already there)" in out
    after = _variant_rows()
    assert {slug: after[slug] for slug in variants} == variants
    assert {slug: rows for slug, rows in _option_rows().items() if slug in variants} == options
    assert {sku: n for sku, n in _movement_counts().items() if sku.split("-")[1] <= "000025"} == movements
    assert set(_movement_counts().values()) == {1}
    assert len(after) == 40
    assert ledger_mismatches() == []


def test_a_run_that_dies_is_resumed_by_running_it_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a run that dies writing the batch holding product 15 (batches of 4), in the middle:
    # one of its variants can't be written (its options are no JSON)
    def failing(number: int, product: SeedProduct) -> SeedVariants:
        plan = variants_for(number, product)
        if number != 15:
            return plan
        no_json: Any = object()
        return replace(
            plan, variants=(replace(plan.variants[0], options={"Size": no_json}), *plan.variants[1:])
        )

    monkeypatch.setattr(seed_catalog, "variants_for", failing)
    with pytest.raises(TypeError):
        _seed(products=30, categories=2, batch_size=4, verbosity=0)
    # then: whole batches are there, each product with its variants; nothing of the failed batch
    assert sorted(Product.objects.values_list("slug", flat=True)) == [
        f"product-{n:06d}" for n in range(1, 13)
    ]
    assert not Product.objects.filter(variants__isnull=True).exists()
    assert ledger_mismatches() == []
    # when: run again
    monkeypatch.setattr(seed_catalog, "variants_for", variants_for)
    out, _ = _seed(products=30, categories=2, batch_size=4, verbosity=1)
    # then: the rest, and no duplicate
    assert "18 products and 0 categories created (12 products already there)" in out
    for slug, rows in _variant_rows().items():
        _, plan = _expected(_number(slug), 2)
        assert [row[0] for row in rows] == [v.sku for v in plan.variants]
    assert set(_movement_counts().values()) == {1}
    assert ledger_mismatches() == []


def _foreign_keys() -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'",
            [list(SEEDED_TABLES)],
        )
        return {(str(table), str(name), str(definition)) for table, name, definition in cursor.fetchall()}


@pytest.mark.postgres_only
def test_a_bulk_load_makes_the_same_rows_and_puts_the_foreign_keys_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a load big enough (for this test) to take the bulk path
    monkeypatch.setattr(seed_catalog, "BULK_LOAD_ROWS", 10)
    before = _foreign_keys()
    assert len(before) >= 5  # category, product (option, variant), variant and order (movement)
    # when
    out, _ = _seed(products=60, categories=4, batch_size=7, verbosity=1)
    # then
    assert _foreign_keys() == before
    for slug, rows in _variant_rows().items():
        _, plan = _expected(_number(slug), 4)
        assert [row[0] for row in rows] == [v.sku for v in plan.variants]
    assert ledger_mismatches() == []
    variants, movements = ProductVariant.objects.count(), StockMovement.objects.count()
    assert f"with {variants} variants and {movements} stock movements" in out
