"""Provider events in the back-office: every webhook the payment provider delivered, as received.

Read-only (it is the audit trail). What an event is about (its order) is read through the
gateway, which knows the provider's payload shape.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from checkout.admin.common import status_badge
from checkout.models import Order
from payments.interface import gateway
from payments.models import ProviderEvent
from shopapi.admin import ReadOnlyPermissionsMixin


class ProcessedFilter(admin.SimpleListFilter):
    title = "processed"
    parameter_name = "processed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Processed"), ("no", "Not processed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ProviderEvent]) -> QuerySet[ProviderEvent]:
        if self.value() == "yes":
            return queryset.filter(processed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(processed_at__isnull=True)
        return queryset


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    """Every webhook the provider delivered, as received; read-only (it is the audit trail)."""

    list_display = ("event_id", "type", "received_at", "processed_at")
    list_filter = ("type", ProcessedFilter)
    date_hierarchy = "received_at"
    search_fields = ("=event_id", "type")
    fields = ("event_id", "type", "received_at", "processed_at", "order", "payload_pretty")
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_pretty(self, event: ProviderEvent) -> SafeString:
        return format_html(
            '<pre style="white-space:pre-wrap;max-width:900px">{}</pre>',
            json.dumps(event.payload, indent=2, sort_keys=True),
        )

    @admin.display(description="order")
    def order(self, event: ProviderEvent) -> SafeString | str:
        """The order the event is about: by the session's order id or the payment id."""
        refs = gateway().event_references(event.payload or {})
        query = Order.objects.none()
        if refs.order_ref:
            query = Order.objects.filter(pk=refs.order_ref) if _is_uuid(refs.order_ref) else query
        elif refs.payment_id:
            query = Order.objects.filter(payment_id=refs.payment_id)
        order = query.first()
        if order is None:
            return "—"
        url = reverse("admin:checkout_order_change", args=[order.pk])
        return format_html('<a href="{}">{}</a> {}', url, order.number, status_badge(order.status))
