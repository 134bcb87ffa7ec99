"""Catalog v2: options, variants, images, stock reservations and the stock ledger."""

import catalog.models
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_drop_product_column_trigram'),
        ('checkout', '0004_session_unclear_since'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductVariant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sku', models.CharField(max_length=220, unique=True, verbose_name='SKU')),
                ('title', models.CharField(blank=True, help_text='Shown to buyers; blank: the option values (“M / Red”).', max_length=200)),
                ('options', models.JSONField(blank=True, default=dict, help_text='e.g. {"Size": "M", "Colour": "Red"}.')),
                ('unit_amount', models.PositiveIntegerField(help_text='Price in minor units (paise for INR).')),
                ('currency', models.CharField(default=catalog.models.default_currency, max_length=3)),
                ('is_active', models.BooleanField(default=True)),
                ('stock_on_hand', models.IntegerField(blank=True, help_text='Units on hand; empty = not tracked (unlimited).', null=True)),
                ('position', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variants', to='catalog.product')),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='StockMovement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('delta', models.IntegerField()),
                ('on_hand_after', models.IntegerField()),
                ('reason', models.CharField(choices=[('sale', 'Sale'), ('return', 'Return to stock'), ('adjustment', 'Adjustment by staff'), ('import', 'Import')], max_length=16)),
                ('actor', models.CharField(blank=True, help_text='The staff member, or empty.', max_length=150)),
                ('note', models.CharField(blank=True, max_length=255)),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stock_movements', to='checkout.order')),
                ('variant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='catalog.productvariant')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='StockReservation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quantity', models.PositiveIntegerField()),
                ('status', models.CharField(choices=[('held', 'Held'), ('released', 'Released'), ('sold', 'Sold')], default='held', max_length=16)),
                ('expires_at', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reservations', to='checkout.order')),
                ('variant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reservations', to='catalog.productvariant')),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ProductImage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image', models.ImageField(max_length=300, upload_to='products/%Y/%m/')),
                ('alt', models.CharField(blank=True, help_text='Describes the picture for screen readers.', max_length=200)),
                ('position', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='images', to='catalog.product')),
            ],
            options={
                'ordering': ['position', 'id'],
                'indexes': [models.Index(fields=['product', 'position', 'id'], name='image_product_pos_idx')],
            },
        ),
        migrations.CreateModel(
            name='ProductOption',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=60)),
                ('values', models.JSONField(default=list, help_text='The values in display order, e.g. ["S", "M", "L"].')),
                ('position', models.PositiveIntegerField(default=0)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='options', to='catalog.product')),
            ],
            options={
                'ordering': ['position', 'id'],
                'constraints': [models.UniqueConstraint(fields=('product', 'name'), name='catalog_option_unique_name')],
            },
        ),
        migrations.AddIndex(
            model_name='productvariant',
            index=models.Index(fields=['product', 'position', 'id'], name='variant_product_pos_idx'),
        ),
        migrations.AddConstraint(
            model_name='productvariant',
            constraint=models.CheckConstraint(condition=models.Q(('unit_amount__gt', 0), ('unit_amount__lte', 99999999)), name='catalog_variant_unit_amount_range'),
        ),
        migrations.AddConstraint(
            model_name='productvariant',
            constraint=models.CheckConstraint(condition=models.Q(('currency__regex', '^[a-z]{3}$')), name='catalog_variant_currency_lower_iso'),
        ),
        migrations.AddIndex(
            model_name='stockmovement',
            index=models.Index(fields=['variant', '-created_at'], name='movement_variant_idx'),
        ),
        migrations.AddConstraint(
            model_name='stockmovement',
            constraint=models.CheckConstraint(condition=models.Q(('delta', 0), _negated=True), name='catalog_movement_delta_nonzero'),
        ),
        migrations.AddIndex(
            model_name='stockreservation',
            index=models.Index(condition=models.Q(('status', 'held')), fields=['variant', 'expires_at'], name='reservation_held_idx'),
        ),
        migrations.AddConstraint(
            model_name='stockreservation',
            constraint=models.UniqueConstraint(fields=('order', 'variant'), name='catalog_reservation_one_per_line'),
        ),
        migrations.AddConstraint(
            model_name='stockreservation',
            constraint=models.CheckConstraint(condition=models.Q(('quantity__gte', 1)), name='catalog_reservation_quantity_positive'),
        ),
    ]
