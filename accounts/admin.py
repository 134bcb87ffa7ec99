"""Admin for users, with each user's orders (a read-only inline and a link to the filtered order list)
and when their email address was verified."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.models import User
from catalog.money import format_money
from checkout.models import Order
from shopapi.admin import ReadOnlyPermissionsMixin


class UserOrderInline(ReadOnlyPermissionsMixin, admin.TabularInline):
    """The user's orders, newest first, read-only; each row links to the order page."""

    model = Order
    fk_name = "user"
    verbose_name = "order"
    verbose_name_plural = "Orders"
    fields = ("number", "status", "total", "amount_refunded_money", "created_at", "paid_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="total")
    def total(self, order: Order) -> str:
        return format_money(order.total_amount, order.currency)

    @admin.display(description="refunded")
    def amount_refunded_money(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency) if order.amount_refunded else "—"


@admin.register(User)
class ShopUserAdmin(UserAdmin):
    inlines = [UserOrderInline]
    readonly_fields = ("orders_link",)
    list_display = ("username", "email", "email_verified_at", "first_name", "last_name", "is_staff")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Email verification", {"fields": ("email_verified_at",)}),
        ("Orders", {"fields": ("orders_link",)}),
    )

    @admin.display(description="orders")
    def orders_link(self, user: User) -> SafeString | str:
        if user.pk is None:
            return "—"
        count = Order.objects.filter(user_id=user.pk).count()
        url = reverse("admin:checkout_order_changelist") + f"?user__id__exact={user.pk}"
        return format_html(
            '<a href="{}">{} order{} in the order list</a>', url, count, "" if count == 1 else "s"
        )

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[admin.options.InlineModelAdmin]]:
        return list(self.inlines) if obj is not None else []
