"""Admin building blocks shared by the apps."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyPermissionsMixin:
    """For admin pages and inlines that only show rows: no add, change or delete, for anyone.

    Orders, their items and events, carts and payment provider events are records of what happened; staff
    read them (and refund through the refund page), never edit them.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
