"""Catalog v2, step 3 of 3 for checkout: a line's variant is required, and a cart holds one line
per variant (it held one per product)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("checkout", "0006_fill_line_variants")]

    operations = [
        migrations.AlterField(
            model_name="cartitem",
            name="variant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="catalog.productvariant"
            ),
        ),
        migrations.AlterField(
            model_name="orderitem",
            name="variant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="catalog.productvariant"
            ),
        ),
        migrations.RemoveConstraint(model_name="cartitem", name="checkout_cartitem_unique_product"),
        migrations.AddConstraint(
            model_name="cartitem",
            constraint=models.UniqueConstraint(fields=("cart", "variant"), name="checkout_cartitem_unique_variant"),
        ),
    ]
