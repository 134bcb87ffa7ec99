"""Orders in the back-office: read-only list and detail, counts by status, CSV export, refund page.

Orders paid when their stock was gone (`Order.oversold`, set by checkout/services/stock.py) carry
an "oversold" badge next to their status and have their own list filter.

Everything that is money is read-only here. An order is never added, edited or deleted in the
admin (the model refuses deletion too, see shopapi/managers.py); the only writes are a refund and
a shipment, each on its own page (checkout/admin/refunds.py, checkout/admin/shipments.py). The
order list shows counts by status for the current filters (one aggregate query) and exports the
filtered orders as streamed CSV.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from catalog.money import format_money
from checkout.admin.common import ReadOnlyInline, oversold_badge, status_badge
from checkout.admin.csv import orders_csv_response
from checkout.admin.refunds import REFUND_PERMISSION, refund_view
from checkout.admin.shipments import SHIP_PERMISSION, ShipmentInline, can_ship, ship_view
from checkout.models import Order, OrderEvent, OrderItem, Refund
from checkout.states import REFUNDABLE_STATUSES, can_refund, refundable_amount, status_choices, status_colour
from payments.interface import gateway
from shopapi.admin import ReadOnlyPermissionsMixin


def order_status_counts(queryset: QuerySet[Order]) -> list[dict[str, Any]]:
    """`[{status, label, count, colour}]` for every status, from ONE aggregate query over `queryset`."""
    choices = status_choices()
    totals = queryset.order_by().aggregate(
        **{f"n_{index}": Count("pk", filter=Q(status=value)) for index, (value, _) in enumerate(choices)}
    )
    return [
        {"status": value, "label": label, "count": totals[f"n_{index}"], "colour": status_colour(value)}
        for index, (value, label) in enumerate(choices)
    ]


class OversoldFilter(admin.SimpleListFilter):
    """Orders paid when their stock was no longer there (served by a partial index)."""

    title = "stock"
    parameter_name = "oversold"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Oversold (restock or refund)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        return queryset.filter(oversold=True) if self.value() == "yes" else queryset


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    verbose_name = "item"
    verbose_name_plural = "Items (as bought)"
    fields = (
        "name",
        "variant_title",
        "sku_link",
        "product_link",
        "unit_price",
        "quantity",
        "line_total_money",
    )
    readonly_fields = fields

    @admin.display(description="SKU")
    def sku_link(self, item: OrderItem) -> SafeString | str:
        """The SKU as bought, linking to the variant (whose SKU may have changed since)."""
        url = reverse("admin:catalog_productvariant_change", args=[item.variant_id])
        return format_html('<a href="{}">{}</a>', url, item.sku or f"#{item.variant_id}")

    @admin.display(description="product")
    def product_link(self, item: OrderItem) -> SafeString:
        url = reverse("admin:catalog_product_change", args=[item.product_id])
        return format_html('<a href="{}">#{}</a>', url, item.product_id)

    @admin.display(description="unit price")
    def unit_price(self, item: OrderItem) -> str:
        return format_money(item.unit_amount, item.order.currency)

    @admin.display(description="line total")
    def line_total_money(self, item: OrderItem) -> str:
        return format_money(item.line_total, item.order.currency)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderItem]:
        return super().get_queryset(request).select_related("order")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name = "event"
    verbose_name_plural = "History (every status change, oldest first)"
    fields = ("created_at", "transition", "source", "message", "provider_event")
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description="status")
    def transition(self, event: OrderEvent) -> SafeString:
        if event.from_status == event.to_status:
            return format_html("{} <small>(note, no change)</small>", status_badge(event.to_status))
        if not event.from_status:
            return status_badge(event.to_status)
        return format_html("{} → {}", status_badge(event.from_status), status_badge(event.to_status))

    @admin.display(description="provider event")
    def provider_event(self, event: OrderEvent) -> SafeString | str:
        if not event.provider_event_id:
            return "—"
        url = reverse("admin:payments_providerevent_changelist") + f"?q={event.provider_event_id}"
        return format_html('<a href="{}">{}</a>', url, event.provider_event_id)


class RefundInline(ReadOnlyInline):
    model = Refund
    verbose_name = "refund"
    verbose_name_plural = "Refunds (as the payment provider last described them)"
    fields = ("provider_refund_id", "money", "status_pill", "failure_reason", "requested_by", "created_at")
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description="amount")
    def money(self, refund: Refund) -> str:
        return format_money(refund.amount, refund.currency)

    @admin.display(description="status")
    def status_pill(self, refund: Refund) -> SafeString:
        colour = {"pending": "#8a5a00", "succeeded": "#1e7b34", "failed": "#b42318"}[refund.status]
        return format_html(
            '<span class="refund-status refund-status-{}" style="background:{};color:#fff;padding:2px 8px;'
            'border-radius:10px;font-size:11px;font-weight:600">{}</span>',
            refund.status,
            colour,
            refund.get_status_display(),
        )


@admin.register(Order)
class OrderAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    list_display = ("number", "customer", "status_pill", "total", "refunded", "created_at", "paid_at")
    list_select_related = ("user",)
    list_filter = ("status", OversoldFilter, ("created_at", admin.DateFieldListFilter), "currency")
    date_hierarchy = "created_at"
    search_fields = (
        "number",
        "email",
        "user__email",
        "user__username",
        "=provider_session_id",
        "=payment_id",
    )
    search_help_text = (
        "Order number, customer (or guest) email or username, or an exact payment session id or "
        "payment id "
        f"as {gateway().display_name} shows them."
    )
    list_per_page = 50
    ordering = ("-created_at", "-id")
    actions = ["export_selected_csv"]
    inlines = [OrderItemInline, ShipmentInline, RefundInline, OrderEventInline]
    fieldsets = (
        (
            "Order",
            {"fields": ("number", "status_pill", "customer", "cart", "created_at", "updated_at", "paid_at")},
        ),
        ("Money", {"fields": ("total", "total_parts", "refunded", "refund_pending", "refundable")}),
        ("Shipping", {"fields": ("shipping_method_name", "ship_to", "fulfilment")}),
        (
            "Payment",
            {
                "description": (
                    f"{gateway().display_name}'s ids for this payment; the order list searches by them."
                ),
                "fields": (
                    "provider_session_id",
                    "payment_id",
                    "checkout_url",
                    "session_expires_at",
                    "content_fingerprint",
                ),
            },
        ),
    )
    readonly_fields = (
        *("number", "status_pill", "customer", "cart", "created_at", "updated_at", "paid_at"),
        *("total", "total_parts", "refunded", "refund_pending", "refundable"),
        *("shipping_method_name", "ship_to", "fulfilment"),
        *("provider_session_id", "payment_id", "checkout_url", "session_expires_at"),
        "content_fingerprint",
    )
    change_list_template = "admin/checkout/order/change_list.html"
    change_form_template = "admin/checkout/order/change_form.html"

    # ---- permissions: the order itself is read-only; refunds have their own page

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # ---- columns

    @admin.display(description="customer", ordering="user__email")
    def customer(self, order: Order) -> SafeString:
        user = order.user
        if user is None:  # a guest order: the address it was placed with
            return format_html("{} <em>(guest)</em>", order.email or "—")
        url = reverse("admin:accounts_user_change", args=[order.user_id])
        name = user.get_full_name()
        label = f"{name} <{user.email}>" if name and user.email else user.email or user.get_username()
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="status", ordering="status")
    def status_pill(self, order: Order) -> SafeString:
        if order.oversold:
            return format_html("{} {}", status_badge(order.status), oversold_badge())
        return status_badge(order.status)

    @admin.display(description="total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return format_money(order.total_amount, order.currency)

    @admin.display(description="refunded", ordering="amount_refunded")
    def refunded(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency) if order.amount_refunded else "—"

    @admin.display(description="refund pending")
    def refund_pending(self, order: Order) -> str:
        return (
            format_money(order.amount_refund_pending, order.currency) if order.amount_refund_pending else "—"
        )

    @admin.display(description="left to refund")
    def refundable(self, order: Order) -> str:
        if order.status not in REFUNDABLE_STATUSES:
            return "— (not paid)"
        return format_money(refundable_amount(order), order.currency)

    # ---- pages

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<path:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="{}_{}_ship".format(*info),
            ),
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="{}_{}_refund".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            cl = context["cl"]
            context["status_counts"] = [
                {**row, "url": cl.get_query_string({"status__exact": row["status"]}, ["p"])}
                for row in order_status_counts(cl.queryset)
            ]
            context["export_url"] = reverse("admin:checkout_order_export") + cl.get_query_string(
                remove=["p", "o", "_changelist_filters"]
            )
        return response

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context["can_refund"] = request.user.has_perm(REFUND_PERMISSION) and can_refund(obj)
            may_ship = request.user.has_perm(SHIP_PERMISSION)
            context["can_ship"] = may_ship and can_ship(obj)
            context["show_shipments"] = may_ship and obj.shipments.exists()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def export_csv_view(self, request: HttpRequest) -> HttpResponseBase:
        """The orders the changelist shows for the same query string (all pages), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            cl = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:checkout_order_changelist") + "?e=1")
        return orders_csv_response(cl.queryset)

    @admin.action(description="Export selected orders as CSV", permissions=["view"])
    def export_selected_csv(self, request: HttpRequest, queryset: QuerySet[Order]) -> StreamingHttpResponse:
        return orders_csv_response(queryset.order_by("-created_at", "-id"))

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return refund_view(self, request, object_id)

    def ship_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return ship_view(self, request, object_id)

    @admin.display(description="of which")
    def total_parts(self, order: Order) -> str:
        money = order.currency
        return (
            f"items {format_money(order.subtotal_amount, money)} + shipping "
            f"{format_money(order.shipping_amount, money)} − discount "
            f"{format_money(order.discount_amount, money)} + tax {format_money(order.tax_amount, money)}"
        )

    @admin.display(description="ship to")
    def ship_to(self, order: Order) -> str:
        return ", ".join(str(v) for v in (order.shipping_address or {}).values() if v) or "—"

    @admin.display(description="fulfilment")
    def fulfilment(self, order: Order) -> str:
        return order.fulfilment_status.replace("_", " ")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).select_related("user")
