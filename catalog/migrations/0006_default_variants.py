"""Catalog v2, data: every existing product becomes a product with one default variant.

The variant takes the product's price, currency and active flag, its SKU is the product's slug,
and its stock is not tracked (unlimited), so nothing a shop sold before changes. Batched, so a
catalog of a million products migrates in bounded memory.
"""

from typing import Any

from django.db import migrations

BATCH = 2000


def default_variants(apps: Any, schema_editor: Any) -> None:
    product_model = apps.get_model("catalog", "Product")
    variant_model = apps.get_model("catalog", "ProductVariant")
    db = schema_editor.connection.alias
    last = 0
    while True:
        batch = list(
            product_model.objects.using(db)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "slug", "unit_amount", "currency")[:BATCH]
        )
        if not batch:
            return
        variant_model.objects.using(db).bulk_create(
            [
                variant_model(
                    product_id=pk,
                    sku=slug,
                    title="",
                    options={},
                    unit_amount=unit_amount,
                    currency=currency,
                    is_active=True,
                    stock_on_hand=None,
                    position=0,
                )
                for pk, slug, unit_amount, currency in batch
            ]
        )
        last = batch[-1][0]


def drop_variants(apps: Any, schema_editor: Any) -> None:
    apps.get_model("catalog", "ProductVariant").objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_variants_images_stock")]

    operations = [migrations.RunPython(default_variants, drop_variants)]
