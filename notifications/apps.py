"""App config: importing `notifications.hooks` subscribes the outbox to order transitions and notices."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications import hooks  # noqa: F401  (registers the transition and notice hooks)
