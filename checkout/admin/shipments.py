"""Fulfilment in the back-office: the "Mark shipped" page of an order, its shipments, shipping methods.

`<order_id>/ship/` (permission `checkout.ship_order`) shows what was ordered and shipped, a form
with one quantity per item (prefilled with what is left, so submitting ships everything) plus
carrier and tracking, and the order's shipments with a "Mark delivered" button each. The rules
(paid orders only, never more than ordered, the order's lock) are `shipment_create`'s and
`shipment_deliver`'s (checkout/services/fulfilment.py); this page parses and shows their answers,
a quantity error on its item's field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog.money import format_money
from checkout.admin.common import ReadOnlyInline, status_badge
from checkout.models import Order, OrderItem, Shipment, ShippingMethod
from checkout.services.fulfilment import SHIPPABLE_STATUSES, shipment_create, shipment_deliver
from shopapi.exceptions import DomainError

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

SHIP_PERMISSION = "checkout.ship_order"


def can_ship(order: Order) -> bool:
    """Paid (or partly refunded) with units left to ship."""
    return order.status in SHIPPABLE_STATUSES and any(
        i.quantity_shipped < i.quantity for i in order.item_list
    )


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    verbose_name = "shipment"
    verbose_name_plural = "Shipments (“Mark shipped…” above; delivery on that page)"
    fields = ("id", "shipped_at", "carrier", "tracking", "units", "delivered_at", "created_by")
    readonly_fields = fields
    ordering = ("shipped_at", "id")

    @admin.display(description="tracking")
    def tracking(self, shipment: Shipment) -> SafeString | str:
        if shipment.tracking_url:
            return format_html(
                '<a href="{}">{}</a>', shipment.tracking_url, shipment.tracking_number or "track"
            )
        return shipment.tracking_number or "—"

    @admin.display(description="items")
    def units(self, shipment: Shipment) -> SafeString:
        return format_html_join(
            ", ", "{} × {}", ((row.quantity, row.order_item.label) for row in shipment.items.all())
        )

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("items__order_item")


class ShipForm(forms.Form):
    """One quantity per item (what is left, by default), then carrier and tracking."""

    carrier = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100, required=False)
    tracking_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    def __init__(self, *args: Any, items: list[OrderItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            left = item.quantity - item.quantity_shipped
            self.fields[self.item_field(item.pk)] = forms.IntegerField(
                label=f"{item.label} ({item.sku or 'no SKU'})",
                min_value=0,
                initial=left,
                help_text=f"ordered {item.quantity}, shipped {item.quantity_shipped}, left {left}",
            )

    @staticmethod
    def item_field(pk: int) -> str:
        return f"item_{pk}"

    def lines(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[self.item_field(item.pk)] or 0 for item in self.items}

    def add_service_error(self, exc: DomainError) -> None:
        """The service's error on its item's field (`items.<pk>.quantity`), else on the form."""
        parts = (exc.field or "").split(".")
        name = self.item_field(int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else None
        self.add_error(name if name in self.fields else None, exc.message)


def _order_for(model_admin: ModelAdmin[Order], request: HttpRequest, object_id: str) -> Order:
    if not (request.user.has_perm(SHIP_PERMISSION) and model_admin.has_view_permission(request)):
        raise PermissionDenied
    order = model_admin.get_object(request, unquote(object_id))
    if order is None:
        raise Http404("Order not found.")
    return order


def ship_view(model_admin: ModelAdmin[Order], request: HttpRequest, object_id: str) -> HttpResponse:
    """Record a shipment of the order, or mark one of its shipments delivered."""
    order = _order_for(model_admin, request, object_id)
    ship_url = reverse("admin:checkout_order_ship", args=[order.pk])
    items = list(order.items.order_by("id"))
    form = ShipForm(request.POST if "_ship" in request.POST else None, items=items)
    if request.method == "POST" and "_deliver" in request.POST:
        try:
            shipment = shipment_deliver(shipment_id=int(request.POST["_deliver"]), staff_user=request.user)
            messages.success(request, f"Shipment {shipment.pk} of order {order.number} is marked delivered.")
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "No such shipment."))
        return HttpResponseRedirect(ship_url)
    if request.method == "POST" and form.is_valid():
        try:
            shipment = shipment_create(
                order_id=order.pk,
                lines=form.lines(),
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                tracking_url=form.cleaned_data["tracking_url"],
                staff_user=request.user,
            )
        except DomainError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Shipment {shipment.pk} of order {order.number} is recorded.")
            return HttpResponseRedirect(reverse("admin:checkout_order_change", args=[order.pk]))

    opts = model_admin.opts
    address = order.shipping_address or {}
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Mark order {order.number} shipped",
        "opts": opts,
        "app_label": opts.app_label,
        "original": order,
        "order": order,
        "form": form,
        "shippable": order.status in SHIPPABLE_STATUSES,
        "change_url": reverse("admin:checkout_order_change", args=[order.pk]),
        "shipments": order.shipment_list,
        "summary": [
            ("Status", status_badge(order.status)),
            ("Fulfilment", order.fulfilment_status.replace("_", " ")),
            ("Method", order.shipping_method_name or "—"),
            ("Ship to", ", ".join(str(v) for v in address.values() if v) or "—"),
            ("Refunded", format_money(order.amount_refunded, order.currency)),
        ],
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/checkout/order/ship.html", context)


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ("name", "price", "countries_list", "estimate", "active", "position")
    list_editable = ("active", "position")
    list_filter = ("active", "currency")
    ordering = ("position", "id")

    @admin.display(description="price", ordering="amount")
    def price(self, method: ShippingMethod) -> str:
        return format_money(method.amount, method.currency)

    @admin.display(description="countries")
    def countries_list(self, method: ShippingMethod) -> str:
        return ", ".join(method.countries) or "all"

    @admin.display(description="delivery")
    def estimate(self, method: ShippingMethod) -> str:
        if method.min_days is None and method.max_days is None:
            return "—"
        return f"{method.min_days or 0}–{method.max_days or method.min_days} business days"
