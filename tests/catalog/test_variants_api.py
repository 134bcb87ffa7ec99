"""Catalog v2 in the public API: variants, options, images, stock, slug lookup, prices from variants."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from catalog.models import ProductImage, ProductOption, ProductVariant, StockReservation
from catalog.variants import product_sync
from checkout.models import Order
from tests.catalog.products import PRODUCTS, detail_url
from tests.factories import CartFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_URL = "/media/"


def _shirt(*, sizes: dict[str, tuple[int, int | None]]) -> tuple[int, dict[str, ProductVariant]]:
    """A product with a Size option: size → (price, on hand or None)."""
    product = ProductFactory.create(name="Shirt", slug="shirt", default_variant=False)
    ProductOption.objects.create(product=product, name="Size", values=list(sizes))
    variants = {
        size: ProductVariant.objects.create(
            product=product,
            sku=f"SHIRT-{size}",
            options={"Size": size},
            unit_amount=price,
            stock_on_hand=on_hand,
            position=position,
        )
        for position, (size, (price, on_hand)) in enumerate(sizes.items())
    }
    product_sync([product.pk])
    return product.pk, variants


def _hold(variant: ProductVariant, quantity: int, *, expires_in: timedelta = timedelta(minutes=30)) -> None:
    user = UserFactory.create()
    order = Order.objects.create(
        number=f"SA-H{StockReservation.objects.count():07d}",
        user=user,
        cart=CartFactory.create(user=user),
        currency="inr",
        total_amount=1,
        subtotal_amount=1,
        content_fingerprint="h",
    )
    StockReservation.objects.create(
        variant=variant, order=order, quantity=quantity, expires_at=timezone.now() + expires_in
    )


def test_a_product_shows_its_options_active_variants_and_images_with_absolute_urls(
    api_client: APIClient,
) -> None:
    # given: S (untracked), M (3 on hand, 1 held), L (inactive); two images out of order
    pk, sizes = _shirt(sizes={"S": (49_900, None), "M": (54_900, 3), "L": (59_900, 9)})
    ProductVariant.objects.filter(pk=sizes["L"].pk).update(is_active=False)
    _hold(sizes["M"], 1)
    ProductImage.objects.create(product_id=pk, image="products/back.png", alt="Back", position=2)
    ProductImage.objects.create(product_id=pk, image="products/front.png", alt="Front", position=1)

    # when
    body = api_client.get(detail_url(pk)).json()

    # then
    assert body["options"] == [{"name": "Size", "values": ["S", "M", "L"]}]
    assert [
        (v["sku"], v["title"], v["options"], v["unit_amount"], v["available_quantity"], v["in_stock"])
        for v in body["variants"]
    ] == [
        ("SHIRT-S", "S", {"Size": "S"}, 49_900, None, True),
        ("SHIRT-M", "M", {"Size": "M"}, 54_900, 2, True),
    ]
    assert body["images"] == [
        {"url": "http://testserver/media/products/front.png", "alt": "Front"},
        {"url": "http://testserver/media/products/back.png", "alt": "Back"},
    ]
    assert body["image_url"] == "http://testserver/media/products/front.png"
    assert (body["unit_amount"], body["in_stock"]) == (49_900, True)


def test_available_is_never_below_zero_and_a_lapsed_hold_counts_for_nothing(api_client: APIClient) -> None:
    # given: 2 on hand; 2 held by a live order, 5 by one whose session time is over
    pk, sizes = _shirt(sizes={"M": (10_000, 2)})
    _hold(sizes["M"], 2)
    _hold(sizes["M"], 5, expires_in=timedelta(seconds=-1))

    # when
    variant = api_client.get(detail_url(pk)).json()["variants"][0]

    # then
    assert (variant["available_quantity"], variant["in_stock"]) == (0, False)
    assert api_client.get(detail_url(pk)).json()["in_stock"] is False


def test_in_stock_filter(api_client: APIClient) -> None:
    # given: one product sold out, one with stock, one untracked, one whose only stocked variant is inactive
    sold_out = ProductFactory.create(default_variant__stock_on_hand=0)
    stocked = ProductFactory.create(default_variant__stock_on_hand=4)
    untracked = ProductFactory.create()
    hidden = ProductFactory.create(default_variant__stock_on_hand=7)
    ProductVariant.objects.filter(product=hidden).update(is_active=False)

    # when
    yes = {p["id"] for p in api_client.get(PRODUCTS, {"in_stock": "true"}).json()["results"]}
    no = {p["id"] for p in api_client.get(PRODUCTS, {"in_stock": "false"}).json()["results"]}
    bad = api_client.get(PRODUCTS, {"in_stock": "maybe"})

    # then
    assert yes == {stocked.pk, untracked.pk}
    assert no == {sold_out.pk, hidden.pk}
    assert bad.status_code == 400
    assert "in_stock" in bad.json()["fields"]


def test_a_product_is_found_by_slug_in_the_path_or_the_query(api_client: APIClient) -> None:
    # given: a product whose slug is digits, beside one whose id those digits are not
    product = ProductFactory.create(slug="linen-shirt")
    numeric = ProductFactory.create(slug="987654")
    inactive = ProductFactory.create(slug="gone", is_active=False)

    # when / then
    assert api_client.get(detail_url("linen-shirt")).json()["id"] == product.pk
    assert api_client.get(detail_url(product.pk)).json()["id"] == product.pk
    assert api_client.get(detail_url("987654")).json()["id"] == numeric.pk
    assert api_client.get(detail_url("gone")).status_code == 404
    assert api_client.get(detail_url("no-such-thing")).status_code == 404
    assert [p["id"] for p in api_client.get(PRODUCTS, {"slug": "linen-shirt"}).json()["results"]] == [
        product.pk
    ]
    assert api_client.get(PRODUCTS, {"slug": inactive.slug}).json()["results"] == []


def test_price_filters_and_ordering_use_the_lowest_active_variant(api_client: APIClient) -> None:
    # given: a shirt from 49 900 (S) to 59 900 (L); a mug at 30 000
    pk, sizes = _shirt(sizes={"S": (49_900, None), "L": (59_900, None)})
    mug = ProductFactory.create(unit_amount=30_000)

    # when: S stops being sold
    ProductVariant.objects.filter(pk=sizes["S"].pk).update(is_active=False)
    product_sync([pk])

    # then: the shirt now starts at 59 900
    cheap = [p["id"] for p in api_client.get(PRODUCTS, {"max_price": 50_000}).json()["results"]]
    ordered = [p["id"] for p in api_client.get(PRODUCTS, {"ordering": "-unit_amount"}).json()["results"]]
    assert cheap == [mug.pk]
    assert ordered == [pk, mug.pk]
    assert api_client.get(detail_url(pk)).json()["unit_amount"] == 59_900


@pytest.mark.parametrize("count", [1, 50])
def test_a_page_is_two_queries_whatever_the_variants_and_images(
    api_client: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries, count: int
) -> None:
    # given: products with 5 variants (some tracked and held) and 3 images each
    for n in range(count):
        product = ProductFactory.create(default_variant=False)
        ProductOption.objects.create(product=product, name="Size", values=["XS", "S", "M", "L", "XL"])
        for position, size in enumerate(["XS", "S", "M", "L", "XL"]):
            ProductVariant.objects.create(
                product=product,
                sku=f"P{n}-{size}",
                options={"Size": size},
                unit_amount=1_000 + position,
                stock_on_hand=position or None,
                position=position,
            )
        for position in range(3):
            ProductImage.objects.create(
                product=product, image=f"products/{n}-{position}.png", position=position
            )

    # when
    with django_assert_max_num_queries(2):
        page = api_client.get(PRODUCTS, {"page_size": 100}).json()["results"]
    only_in_stock: dict[str, str | int] = {"page_size": 100, "in_stock": "true"}
    with django_assert_max_num_queries(2):
        in_stock = api_client.get(PRODUCTS, only_in_stock).json()["results"]

    # then
    assert len(page) == len(in_stock) == count
    assert all(len(p["variants"]) == 5 and len(p["images"]) == 3 and len(p["options"]) == 1 for p in page)
