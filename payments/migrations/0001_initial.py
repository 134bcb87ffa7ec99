"""ProviderEvent takes over checkout's StripeEvent table: same rows, renamed table, and the content
type and permissions carried over so staff keep their access to the events admin."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OLD = ("checkout", "stripeevent")
NEW = ("payments", "providerevent")


def _move_content_type(apps: StateApps, old: tuple[str, str], new: tuple[str, str]) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    moved = content_type.objects.filter(app_label=old[0], model=old[1]).first()
    if moved is None:
        return
    content_type.objects.filter(app_label=new[0], model=new[1]).delete()
    moved.app_label, moved.model = new
    moved.save(update_fields=["app_label", "model"])
    for perm in permission.objects.filter(content_type=moved, codename__endswith=f"_{old[1]}"):
        action = perm.codename.removesuffix(f"_{old[1]}")
        perm.codename = f"{action}_{new[1]}"
        perm.name = f"Can {action} {'provider event' if new == NEW else 'stripe event'}"
        perm.save(update_fields=["codename", "name"])


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move_content_type(apps, OLD, NEW)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move_content_type(apps, NEW, OLD)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("checkout", "0002_provider_neutral_names"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ProviderEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("event_id", models.CharField(max_length=255, unique=True)),
                        ("type", models.CharField(max_length=120)),
                        ("payload", models.JSONField()),
                        ("received_at", models.DateTimeField(auto_now_add=True)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={"ordering": ["-received_at"], "db_table": "checkout_stripeevent"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="providerevent", table=None),
        migrations.RunPython(forwards, backwards),
    ]
