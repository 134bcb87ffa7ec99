"""The demo shop's catalog extras for `manage.py seed_demo`: pictures, and demo variants on an old database.

`seed_catalog` makes the twelve demo products with their options, variants and opening stock
(`catalog.seeding_variants.CURATED_VARIANTS`). `demo_catalog_ensure` adds what it can't:

- each demo product's picture (`catalog.demo_pictures`), stored through Django's default storage
  (MEDIA_ROOT locally, S3-compatible storage in production) as a `ProductImage`, to a demo product
  that has no image yet;
- the demo products' old `image_url` is cleared (it pointed at a host that does not exist);
- a demo product still as the variants migration left it (one untracked default variant, no
  ledger row) gets its demo options, variants and opening stock, so `make run` on a database
  seeded before variants existed shows them too.

Idempotent: a second run adds and changes nothing. Only what is missing is added, so nothing
staff or buyers did is undone (stock sold or adjusted, images replaced, tracking switched off).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.files import File
from django.db import transaction

from catalog.cache import catalog_changed
from catalog.demo_pictures import DemoPicture, demo_pictures
from catalog.models import Product, ProductImage, ProductOption, ProductVariant, StockMovement
from catalog.seeding import product_for, product_slug
from catalog.seeding_variants import variants_for
from catalog.stock import stock_set
from catalog.variants import product_sync

DEMO_NOTE = "seed_demo"  # the note of the ledger rows this module writes


@dataclass
class DemoCatalog:
    """What `demo_catalog_ensure` added."""

    images: int = 0
    variants: int = 0


def demo_catalog_ensure() -> DemoCatalog:
    """Give the demo products (made by `seed_catalog`) their pictures and, on an old database,
    their variants; clear their external image URLs."""
    pictures = {product_slug(picture.number): picture for picture in demo_pictures()}
    added = DemoCatalog()
    products = list(Product.objects.filter(slug__in=list(pictures)).order_by("pk"))
    Product.objects.filter(pk__in=[product.pk for product in products]).exclude(image_url="").update(
        image_url=""
    )
    for product in products:
        picture = pictures[product.slug]
        added.variants += _demo_variants_ensure(product, picture.number)
        added.images += _demo_image_ensure(product, picture)
    catalog_changed()  # pictures and image URLs: cached catalog pages are rebuilt
    return added


def _demo_image_ensure(product: Product, picture: DemoPicture) -> int:
    """Store the picture as the product's first image unless it has one; how many were added."""
    if ProductImage.objects.filter(product=product).exists():
        return 0
    image = ProductImage(product=product, alt=picture.alt, position=0)
    with picture.path.open("rb") as data:
        image.image.save(picture.file, File(data), save=True)  # through the default storage
    return 1


def _untouched_default(product: Product) -> ProductVariant | None:
    """The product's only variant when it is still what the variants migration made."""
    variants = list(ProductVariant.objects.filter(product=product)[:2])
    if len(variants) != 1:
        return None
    (variant,) = variants
    untouched = variant.sku == product.slug and not variant.options and variant.stock_on_hand is None
    if not untouched or StockMovement.objects.filter(variant=variant).exists():
        return None
    return variant


def _demo_variants_ensure(product: Product, number: int) -> int:
    """Turn a demo product's migrated default variant into its demo variants; how many were added."""
    default = _untouched_default(product)
    if default is None:
        return 0
    # The product as seeded, at the price the shop has now.
    plan = variants_for(number, replace(product_for(number, categories=1), unit_amount=default.unit_amount))
    if not plan.options:
        on_hand = plan.variants[0].stock_on_hand
        if on_hand is not None:
            stock_set(
                variant_id=default.pk,
                on_hand=on_hand,
                actor="",
                note=DEMO_NOTE,
                reason=StockMovement.Reason.IMPORT,
            )
        return 0
    with transaction.atomic():
        ProductOption.objects.bulk_create(
            [
                ProductOption(product=product, name=name, values=list(values), position=position)
                for position, (name, values) in enumerate(plan.options)
            ],
            ignore_conflicts=True,
        )
        created = ProductVariant.objects.bulk_create(
            [
                ProductVariant(
                    product=product,
                    sku=seed.sku,
                    options=seed.options,
                    unit_amount=seed.unit_amount,
                    currency=default.currency,
                    is_active=seed.is_active,
                    position=seed.position,
                )
                for seed in plan.variants
            ]
        )
        # The migrated default variant can't be deleted (cart lines and orders may name it).
        ProductVariant.objects.filter(pk=default.pk).update(is_active=False, position=len(created))
        for variant, seed in zip(created, plan.variants, strict=True):
            if seed.stock_on_hand is not None:
                stock_set(
                    variant_id=variant.pk,
                    on_hand=seed.stock_on_hand,
                    actor="",
                    note=DEMO_NOTE,
                    reason=StockMovement.Reason.IMPORT,
                )
        product_sync([product.pk])
    return len(created)
