"""Back-office for integrations: webhook endpoints (secret shown once, rotation), deliveries (resend),
the outbox and sent emails. No business rules here: they live in notifications/webhooks.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from notifications.events import EVENT_TYPES
from notifications.models import OutboundEmail, OutboxEvent, WebhookDelivery, WebhookEndpoint
from notifications.signing import secret_generate
from notifications.transport import UnsafeTarget, target_resolve
from notifications.webhooks import delivery_resend, endpoint_rotate_secret
from shopapi.admin import ReadOnlyPermissionsMixin


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(t, t) for t in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "active"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            target_resolve(url)
        except UnsafeTarget as exc:
            raise forms.ValidationError(f"This URL can't receive webhooks: {exc}.") from exc
        return url


def _secret_message(request: HttpRequest, endpoint: WebhookEndpoint, secret: str, what: str) -> None:
    messages.warning(
        request,
        format_html(
            "{} for {}: <code>{}</code> — copy it now, it is not shown again.", what, endpoint.url, secret
        ),
    )


def last_answer(delivery: WebhookDelivery) -> SafeString:
    """The last error or response body, cut to 80 characters (the whole of it on hover)."""
    text = delivery.last_error or delivery.last_response
    return format_html("<span title='{}'>{}</span>", text, text[:80] + ("…" if len(text) > 80 else ""))


class DeliveryInline(ReadOnlyPermissionsMixin, admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    max_num = 0
    fields = ("event", "status", "attempts", "last_status_code", "answer", "next_attempt_at", "delivered_at")
    readonly_fields = fields
    ordering = ["-id"]
    show_change_link = True

    @admin.display(description="last answer")
    def answer(self, delivery: WebhookDelivery) -> SafeString:
        return last_answer(delivery)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("event")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "active", "types", "failing_since", "disabled_reason", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["failing_since", "disabled_reason", "previous_secret_expires_at", "created_at"]
    actions = ["rotate_secret"]
    inlines = [DeliveryInline]

    @admin.display(description="event types")
    def types(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) or "all"

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        if not change:
            obj.secret = secret_generate()
        elif obj.active and "active" in form.changed_data:
            # Staff turned it back on: it starts with a clean record.
            obj.failing_since = None
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)
        if not change:
            _secret_message(request, obj, obj.secret, "Signing secret")

    @admin.action(description="Rotate the signing secret (the old one stays valid for 24 h)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            _secret_message(
                request, endpoint, endpoint_rotate_secret(endpoint_pk=endpoint.pk), "New signing secret"
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    list_display = [
        "event_id_",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "answer",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "endpoint", "event__type"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__public_id", "event__order__number"]
    actions = ["resend"]
    readonly_fields = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_response",
        "last_error",
        "delivered_at",
        "created_at",
    ]

    @admin.display(description="event")
    def event_id_(self, delivery: WebhookDelivery) -> str:
        return delivery.event.public_id

    @admin.display(description="type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="last answer")
    def answer(self, delivery: WebhookDelivery) -> SafeString:
        return last_answer(delivery)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewing and the "resend" action need it; every field stays read-only.
        return request.user.has_perm("notifications.change_webhookdelivery")

    @admin.action(description="Resend the selected deliveries now", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        sent = sum(delivery_resend(delivery_pk=pk) for pk in queryset.values_list("pk", flat=True))
        skipped = queryset.count() - sent
        self.message_user(request, f"{sent} deliveries queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} skipped: their endpoint is disabled.", messages.WARNING)


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    list_display = ["public_id", "type", "order", "created_at", "dispatched_at"]
    list_filter = ["type"]
    list_select_related = ["order"]
    search_fields = ["public_id", "order__number"]
    readonly_fields = ["public_id", "type", "order", "object_id", "created_at", "dispatched_at", "body"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    list_display = ["kind", "to", "subject", "status", "attempts", "sent_at", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject"]
    readonly_fields = [
        "event",
        "kind",
        "to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "text",
    ]
    exclude = ["html"]
