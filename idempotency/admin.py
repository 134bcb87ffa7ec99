"""Idempotency keys in the back-office: read-only, to see what a client retried and what it got back."""

from __future__ import annotations

from django.contrib import admin

from idempotency.models import IdempotencyKey
from shopapi.admin import ReadOnlyPermissionsMixin


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    """Keys with their caller scope and first answer; purged by `manage.py purge_idempotency_keys`."""

    list_display = ("key", "scope", "status_code", "created_at", "locked_at")
    list_filter = ("status_code",)
    date_hierarchy = "created_at"
    search_fields = ("=key", "=scope")
    fields = (
        "scope",
        "key",
        "fingerprint",
        "status_code",
        "response_headers",
        "created_at",
        "locked_at",
        "updated_at",
    )
    readonly_fields = fields
