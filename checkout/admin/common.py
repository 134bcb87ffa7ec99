"""Pieces the checkout admin screens share: the status and oversold badges and a read-only inline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from checkout.states import status_colour, status_label
from shopapi.admin import ReadOnlyPermissionsMixin


def status_badge(status: str) -> SafeString:
    """A coloured pill with the status label; any status renders, known to states.py or not."""
    return format_html(
        '<span class="order-status order-status-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;white-space:nowrap;font-size:11px;font-weight:600">{}</span>',
        status,
        status_colour(status),
        status_label(status),
    )


def oversold_badge() -> SafeString:
    """The mark of an order paid when its stock was gone (`Order.oversold`): restock or refund."""
    return format_html(
        '<span class="order-oversold" title="{}" style="background:#b42318;color:#fff;padding:2px 8px;'
        'border-radius:10px;white-space:nowrap;font-size:11px;font-weight:600">oversold</span>',
        "Paid when its stock was no longer there: restock or refund.",
    )


class ReadOnlyInline(ReadOnlyPermissionsMixin, admin.TabularInline):
    """An inline that only shows rows (no add, change or delete), to whoever may view the parent."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        parent = self.parent_model._meta
        return request.user.has_perm(f"{parent.app_label}.{get_permission_codename('view', parent)}")
