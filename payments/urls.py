"""Payment URLs under /api/v1/: the configured provider's webhook."""

from django.urls import path

from payments.interface import gateway
from payments.views import WebhookView

urlpatterns = [
    path(f"payments/{gateway().slug}/webhook/", WebhookView.as_view(), name="payments-webhook"),
]
