"""`manage.py seed_catalog`: idempotent, deterministic, quiet unless asked, a believable demo shop."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.management.commands.seed_catalog import ProgressBar
from catalog.models import Category, Product
from catalog.seeding import CURATED, product_for

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
    # then: every row is what product_for() says it is
    for product in Product.objects.select_related("category").order_by("id")[:50]:
        number = int(product.slug.removeprefix("product-"))
        expected = product_for(number, categories=8)
        assert (product.name, product.description, product.unit_amount, product.is_active) == (
            expected.name,
            expected.description,
            expected.unit_amount,
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
