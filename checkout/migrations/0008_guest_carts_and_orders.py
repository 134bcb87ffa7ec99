"""Guest carts and guest checkout: a cart or order belongs to a user or to a token (its sha256).

Every existing cart and order has a user and no token, so the new constraints hold for them.
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('checkout', '0007_line_variants_required'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='cart',
            name='token_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='order',
            name='email',
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name='order',
            name='token_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='cart',
            name='status',
            field=models.CharField(choices=[('open', 'Open'), ('checked_out', 'Checked out'), ('merged', 'Merged')], default='open', max_length=16),
        ),
        migrations.AlterField(
            model_name='cart',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='carts', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='order',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(django.db.models.functions.text.Lower('email'), condition=models.Q(('user__isnull', True)), name='order_guest_email_ci_idx'),
        ),
        migrations.AddConstraint(
            model_name='cart',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('token_hash__isnull', True), ('user__isnull', False)), models.Q(('token_hash__isnull', False), ('user__isnull', True)), _connector='OR'), name='checkout_cart_user_or_guest_token'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('token_hash__isnull', True), ('user__isnull', False)), models.Q(('token_hash__isnull', False), ('user__isnull', True)), _connector='OR'), name='checkout_order_user_or_guest_token'),
        ),
    ]
