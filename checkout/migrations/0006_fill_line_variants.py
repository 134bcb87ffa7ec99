"""Catalog v2, step 2 of 3 for checkout: every cart line and order item points at its product's
default variant (made by catalog 0006), and order items snapshot its SKU. No total, quantity or
price changes: the variant carries exactly the product's price."""

from typing import Any

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.connection.alias
    variant_model = apps.get_model("catalog", "ProductVariant")
    default = variant_model.objects.using(db).filter(product_id=OuterRef("product_id")).order_by("position", "pk")
    for name in ("CartItem", "OrderItem"):
        model = apps.get_model("checkout", name)
        model.objects.using(db).filter(variant__isnull=True).update(variant_id=Subquery(default.values("pk")[:1]))
    apps.get_model("checkout", "OrderItem").objects.using(db).filter(sku="").update(
        sku=Subquery(variant_model.objects.using(db).filter(pk=OuterRef("variant_id")).values("sku")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("checkout", "0005_line_variants"), ("catalog", "0006_default_variants")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
