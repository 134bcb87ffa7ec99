"""Provider-neutral names: the payment provider's ids on orders and events, and provider events
moved to the payments app (the table itself is renamed by payments 0001, not dropped)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="order", old_name="stripe_session_id", new_name="provider_session_id"),
        migrations.RenameField(model_name="order", old_name="stripe_payment_intent_id", new_name="payment_id"),
        migrations.RenameField(
            model_name="orderevent", old_name="stripe_event_id", new_name="provider_event_id"
        ),
        migrations.AlterModelOptions(
            name="order",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [("refund_order", "Can refund orders through the payment provider")],
            },
        ),
        # The model moves to payments.ProviderEvent; its table and rows stay (payments 0001).
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StripeEvent")],
            database_operations=[],
        ),
    ]
