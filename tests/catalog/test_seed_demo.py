"""`manage.py seed_demo`: the demo shop has variants, stock and real pictures in Django's storage,
served at absolute URLs, no external URL anywhere, and a second run adds nothing."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import clear_url_caches
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

import shopapi.urls
from catalog.demo_pictures import DEMO_IMAGES_DIR, demo_pictures
from catalog.models import Product, ProductImage, ProductOption, ProductVariant, StockMovement
from catalog.seeding import CURATED, product_slug
from catalog.stock import ledger_mismatches
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

TSHIRT, PRESSURE_COOKER, CHARGER = product_slug(3), product_slug(4), product_slug(5)


@pytest.fixture
def media_root(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def served_media(settings: SettingsWrapper, media_root: Path) -> Iterator[Path]:
    """SERVE_MEDIA on: shopapi/urls.py is loaded again so it adds its media route (it reads the
    setting once, at import), then loaded again as it was."""
    original = settings.SERVE_MEDIA
    settings.SERVE_MEDIA = True
    importlib.reload(shopapi.urls)
    clear_url_caches()
    yield media_root
    settings.SERVE_MEDIA = original
    importlib.reload(shopapi.urls)
    clear_url_caches()


def _seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _state(media_root: Path) -> dict[str, Any]:
    """Everything seed_demo writes: rows per table and the files in storage."""
    return {
        "products": list(Product.objects.order_by("pk").values_list("pk", "unit_amount", "image_url")),
        "variants": list(
            ProductVariant.objects.order_by("pk").values_list("pk", "sku", "is_active", "stock_on_hand")
        ),
        "options": list(ProductOption.objects.order_by("pk").values_list("pk", "name", "values")),
        "images": list(ProductImage.objects.order_by("pk").values_list("pk", "image")),
        "movements": list(StockMovement.objects.order_by("pk").values_list("pk", "delta")),
        "files": sorted(
            str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
        ),
    }


def test_the_committed_pictures_are_small_real_images() -> None:
    from PIL import Image

    # given
    pictures = demo_pictures()
    # then: one per demo product, each a 400x400 JPEG under 20 KB, none alike
    assert len(pictures) == len(CURATED)
    assert sorted(path.name for path in DEMO_IMAGES_DIR.iterdir()) == sorted(p.file for p in pictures)
    for picture in pictures:
        assert picture.path.stat().st_size < 20_000
        with Image.open(picture.path) as image:
            assert (image.format, image.size) == ("JPEG", (400, 400))
    assert len({picture.path.read_bytes() for picture in pictures}) == len(pictures)


def test_seed_demo_stores_a_picture_of_every_demo_product_in_storage(media_root: Path) -> None:
    # given
    assert not media_root.exists()
    # when
    out = _seed_demo()
    # then: each demo product has its picture, stored under MEDIA_ROOT through the default storage
    assert f"demo catalog: {len(CURATED)} pictures and 0 variants added" in out
    images = list(ProductImage.objects.select_related("product").order_by("product__slug"))
    assert [image.product.slug for image in images] == [product_slug(n) for n in range(1, len(CURATED) + 1)]
    for image, picture in zip(images, demo_pictures(), strict=True):
        assert image.image.name.startswith("products/")
        assert (media_root / image.image.name).read_bytes() == picture.path.read_bytes()
        assert image.alt == f"Illustration of the {picture.name}"
    # and nothing points at an external host
    assert set(Product.objects.values_list("image_url", flat=True)) == {""}


def test_the_demo_products_come_in_sizes_with_stock_low_stock_and_untracked(media_root: Path) -> None:
    # when
    _seed_demo()
    # then: the T-shirt in sizes and colours, every variant tracked, its ledger in step
    tshirt = Product.objects.get(slug=TSHIRT)
    assert list(tshirt.options.values_list("name", "values")) == [
        ("Size", ["S", "M", "L"]),
        ("Colour", ["White", "Black"]),
    ]
    variants = list(tshirt.variants.order_by("position"))
    assert [v.options for v in variants][:2] == [
        {"Size": "S", "Colour": "White"},
        {"Size": "S", "Colour": "Black"},
    ]
    assert len(variants) == 6
    assert all(v.stock_on_hand is not None for v in variants)
    assert tshirt.unit_amount == min(v.unit_amount for v in variants)
    # low stock, and untracked
    assert Product.objects.get(slug=PRESSURE_COOKER).variants.get().stock_on_hand == 2
    assert Product.objects.get(slug=CHARGER).variants.get().stock_on_hand is None
    assert (
        StockMovement.objects.filter(reason="import").count()
        == ProductVariant.objects.filter(stock_on_hand__gt=0).count()
    )
    assert ledger_mismatches() == []


def test_the_product_detail_gives_absolute_image_urls_that_are_served(served_media: Path) -> None:
    # given
    _seed_demo()
    client = APIClient()
    # when
    response = client.get(f"/api/v1/products/{TSHIRT}/")
    # then
    assert response.status_code == 200
    body = response.json()
    (image,) = body["images"]
    assert image["url"].startswith("http://testserver/media/products/")
    assert image["url"].endswith(".jpg")
    assert body["image_url"] == image["url"]
    assert [v["available_quantity"] for v in body["variants"]] == [12, 7, 20, 0, 4, 2]
    # when: the storefront fetches the picture
    picture = client.get(image["url"])
    # then: the stored file, as an image
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert picture.getvalue() == (DEMO_IMAGES_DIR / "organic-cotton-crew-t-shirt.jpg").read_bytes()


def test_a_second_run_adds_nothing(media_root: Path) -> None:
    # given
    _seed_demo()
    before = _state(media_root)
    assert len(before["files"]) == len(CURATED)
    # when
    out = _seed_demo()
    # then
    assert _state(media_root) == before
    assert "demo catalog:" not in out


def test_what_staff_and_buyers_changed_is_not_undone(media_root: Path) -> None:
    # given: a demo shop whose T-shirt lost its picture and had a variant sold out by hand
    _seed_demo()
    tshirt = Product.objects.get(slug=TSHIRT)
    ProductImage.objects.filter(product__slug=PRESSURE_COOKER).delete()
    ProductImage.objects.create(product=Product.objects.get(slug=PRESSURE_COOKER), image="products/staff.jpg")
    variant = tshirt.variants.order_by("position").first()
    assert variant is not None
    ProductVariant.objects.filter(pk=variant.pk).update(stock_on_hand=None)
    # when
    _seed_demo()
    # then: the staff picture stays the only one; the variant stays untracked
    assert list(
        ProductImage.objects.filter(product__slug=PRESSURE_COOKER).values_list("image", flat=True)
    ) == ["products/staff.jpg"]
    variant.refresh_from_db()
    assert variant.stock_on_hand is None


def test_a_demo_shop_seeded_before_variants_gets_them(media_root: Path) -> None:
    # given: the demo products as the variants migration left them: one untracked default
    # variant each (SKU = slug), and image URLs on a host that doesn't exist
    for number, (name, description, amount, _) in enumerate(CURATED, 1):
        slug = product_slug(number)
        ProductFactory.create(
            slug=slug,
            name=name,
            description=description,
            unit_amount=amount,
            image_url=f"https://cdn.example.com/catalog/{slug}.jpg",
        )
    # when
    out = _seed_demo()
    # then: the T-shirt's demo variants, tracked with their ledger; the old default kept, inactive
    tshirt = Product.objects.get(slug=TSHIRT)
    active = list(tshirt.variants.filter(is_active=True).order_by("position"))
    assert [v.sku for v in active] == [
        f"{TSHIRT}-{size}-{colour}" for size in ("s", "m", "l") for colour in ("white", "black")
    ]
    assert [v.stock_on_hand for v in active] == [12, 7, 20, 0, 4, 2]
    assert tshirt.variants.get(sku=TSHIRT).is_active is False
    assert tshirt.unit_amount == min(v.unit_amount for v in active)
    assert tshirt.options.count() == 2
    # a default variant that the demo tracks is now tracked through the ledger; untracked stays so
    cooker = Product.objects.get(slug=PRESSURE_COOKER).variants.get()
    assert cooker.stock_on_hand == 2
    assert list(cooker.movements.values_list("reason", "delta")) == [("import", 2)]
    assert Product.objects.get(slug=CHARGER).variants.get().stock_on_hand is None
    assert ledger_mismatches() == []
    assert set(Product.objects.values_list("image_url", flat=True)) == {""}
    assert ProductImage.objects.count() == len(CURATED)
    assert "pictures and 23 variants added" in out  # 2 + 6 + 4 + 2 + 3 + 6 option variants
    # when: again
    before = _state(media_root)
    _seed_demo()
    # then
    assert _state(media_root) == before
