"""Carts in the back-office: the customers' own state, which staff look at and never edit."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from checkout.admin.common import ReadOnlyInline, status_badge
from checkout.models import Cart, CartItem
from shopapi.admin import ReadOnlyPermissionsMixin


class CartItemInline(ReadOnlyInline):
    model = CartItem
    fields = ("product", "quantity", "created_at", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CartItem]:
        return super().get_queryset(request).select_related("product")


@admin.register(Cart)
class CartAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    """Carts are the customers' own state: staff look, never edit."""

    list_display = ("id", "user", "status", "created_at", "updated_at")
    list_select_related = ("user",)
    list_filter = ("status", ("updated_at", admin.DateFieldListFilter))
    search_fields = ("=id", "user__email", "user__username")
    readonly_fields = ("id", "user", "status", "created_at", "updated_at", "orders")
    fields = readonly_fields
    inlines = [CartItemInline]

    @admin.display(description="orders from this cart")
    def orders(self, cart: Cart) -> SafeString | str:
        rows: Iterable[tuple[str, str, SafeString]] = (
            (reverse("admin:checkout_order_change", args=[o.pk]), o.number, status_badge(o.status))
            for o in cart.orders.all()
        )
        return format_html_join(", ", '<a href="{}">{}</a> {}', rows) or "—"
