"""Products and variants that need no shipping (digital goods); every existing one ships."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_default_variants"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="requires_shipping",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text="Off for digital goods: a cart of only such lines collects no address.",
            ),
        ),
        migrations.AddField(
            model_name="productvariant",
            name="requires_shipping",
            field=models.BooleanField(
                blank=True,
                help_text="Empty: as the product; set it to override for this variant.",
                null=True,
            ),
        ),
    ]
