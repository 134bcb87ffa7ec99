"""App config for checkout."""

from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "checkout"

    def ready(self) -> None:
        # Registers the system check on CART_MAX_QUANTITY, the transition log hook and the
        # hook that makes stock follow the order.
        from checkout import pricing  # noqa: F401
        from checkout.services import stock, transitions  # noqa: F401
