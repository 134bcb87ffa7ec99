"""The staff back-office for checkout: orders (read-only, refunds, CSV export), carts, Stripe events.

Everything that is money is read-only here. An order is never added, edited or deleted in the
admin (the model refuses deletion too, see checkout/managers.py); the only write is a refund,
on its own page (`<order_id>/refund/`), guarded by the `checkout.refund_order` permission and
done by `checkout.services.refunds.order_refund`. The order list shows counts by status for
the current filters (one aggregate query) and exports the filtered orders as streamed CSV.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog.money import currency_decimals, format_money
from checkout.models import Cart, CartItem, Order, OrderEvent, OrderItem, StripeEvent
from checkout.services.refunds import REFUNDABLE_STATUSES, order_refund
from checkout.stripe_gateway import RefundRefused
from shopapi.admin import ReadOnlyPermissionsMixin
from shopapi.exceptions import ConflictError, DomainError, PaymentProviderError

S = Order.Status
REFUND_PERMISSION = "checkout.refund_order"

# Badge colours per order status (white text on these passes WCAG AA).
STATUS_COLOURS: dict[str, str] = {
    S.PENDING: "#8a5a00",
    S.PAID: "#1e7b34",
    S.FAILED: "#b42318",
    S.EXPIRED: "#5c6370",
    S.CANCELLED: "#3f4753",
    S.PARTIALLY_REFUNDED: "#6941c6",
    S.REFUNDED: "#175cd3",
}
STATUS_LABELS: dict[str, str] = dict(S.choices)

CSV_HEADER = [
    "number",
    "created_at",
    "paid_at",
    "customer",
    "email",
    "status",
    "currency",
    "total",
    "refunded",
    "stripe_session_id",
    "stripe_payment_intent_id",
]


# --------------------------------------------------------------------------- small helpers


def status_badge(status: str) -> SafeString:
    """A coloured pill with the status label (plain text for an unknown status)."""
    return format_html(
        '<span class="order-status order-status-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;white-space:nowrap;font-size:11px;font-weight:600">{}</span>',
        status,
        STATUS_COLOURS.get(status, "#444"),
        STATUS_LABELS.get(status, status or "—"),
    )


def money_decimal(amount: int, currency: str) -> str:
    """Minor units as a plain major-unit decimal for spreadsheets: 149900 inr → "1499.00"."""
    decimals = currency_decimals(currency)
    return f"{Decimal(int(amount)).scaleb(-decimals):.{decimals}f}"


def _csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formula injection in free text (a username like `=HYPERLINK(...)`)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _iso(value: Any) -> str:
    return timezone.localtime(value).isoformat() if value else ""


class _Echo:
    """A file-like object whose `write` returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def orders_csv_lines(queryset: QuerySet[Order]) -> Iterator[str]:
    """The header and one CSV line per order, fetched in chunks (amounts in major units)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for order in queryset.select_related("user").iterator(chunk_size=1000):
        yield writer.writerow(
            [
                order.number,
                _iso(order.created_at),
                _iso(order.paid_at),
                _csv_safe(order.user.get_username()),
                _csv_safe(order.user.email),
                order.status,
                order.currency.upper(),
                money_decimal(order.total_amount, order.currency),
                money_decimal(order.amount_refunded, order.currency),
                order.stripe_session_id or "",
                order.stripe_payment_intent_id,
            ]
        )


def orders_csv_response(queryset: QuerySet[Order]) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(orders_csv_lines(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    return response


def order_status_counts(queryset: QuerySet[Order]) -> list[dict[str, Any]]:
    """`[{status, label, count}]` for every status, from ONE aggregate query over `queryset`."""
    totals = queryset.order_by().aggregate(
        **{f"n_{value}": Count("pk", filter=Q(status=value)) for value in S.values}
    )
    return [
        {"status": value, "label": label, "count": totals[f"n_{value}"], "colour": STATUS_COLOURS[value]}
        for value, label in S.choices
    ]


def refundable_amount(order: Order) -> int:
    return order.total_amount - order.amount_refunded


def order_can_be_refunded(order: Order) -> bool:
    return (
        order.status in REFUNDABLE_STATUSES
        and bool(order.stripe_payment_intent_id)
        and refundable_amount(order) > 0
    )


class ReadOnlyInline(ReadOnlyPermissionsMixin, admin.TabularInline):
    """An inline that only shows rows (no add, change or delete), to whoever may view the parent."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        parent = self.parent_model._meta
        return request.user.has_perm(f"{parent.app_label}.{get_permission_codename('view', parent)}")


# --------------------------------------------------------------------------- orders


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    verbose_name = "item"
    verbose_name_plural = "Items (as bought)"
    fields = ("name", "product_link", "unit_price", "quantity", "line_total_money")
    readonly_fields = fields

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
    fields = ("created_at", "transition", "source", "message", "stripe_event")
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description="status")
    def transition(self, event: OrderEvent) -> SafeString:
        if event.from_status == event.to_status:
            return format_html("{} <small>(note, no change)</small>", status_badge(event.to_status))
        if not event.from_status:
            return status_badge(event.to_status)
        return format_html("{} → {}", status_badge(event.from_status), status_badge(event.to_status))

    @admin.display(description="Stripe event")
    def stripe_event(self, event: OrderEvent) -> SafeString | str:
        if not event.stripe_event_id:
            return "—"
        url = reverse("admin:checkout_stripeevent_changelist") + f"?q={event.stripe_event_id}"
        return format_html('<a href="{}">{}</a>', url, event.stripe_event_id)


class OrderRefundForm(forms.Form):
    """Amount in MAJOR units of the order's currency (12.50 = twelve fifty), default: all that is left.

    Only the format is checked here; the bounds (1 minor unit … what is left) are checked by
    `order_refund` under the order's row lock, and its error is shown on the `amount` field.
    """

    amount = forms.DecimalField()
    amount_refunded_before = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.decimals = currency_decimals(order.currency)
        left = refundable_amount(order)
        example = "12" if self.decimals == 0 else "12." + "5".ljust(self.decimals, "0")
        self.fields["amount"] = forms.DecimalField(
            label=f"Amount to refund, in {order.currency.upper()} (major units, e.g. {example})",
            max_digits=18,
            decimal_places=self.decimals,
            min_value=Decimal(0),
            initial=Decimal(left).scaleb(-self.decimals),
            help_text=(
                f"Up to {format_money(left, order.currency)} can be refunded "
                f"(total {format_money(order.total_amount, order.currency)}, already refunded "
                f"{format_money(order.amount_refunded, order.currency)}). "
                "Leave the full amount for a full refund."
            ),
        )
        self.fields["amount_refunded_before"].initial = order.amount_refunded

    def amount_minor(self) -> int:
        """The cleaned amount in minor units (exact: the field allows no more decimals than the currency)."""
        amount: Decimal = self.cleaned_data["amount"]
        return int(amount.scaleb(self.decimals))


@admin.register(Order)
class OrderAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "status_pill",
        "total",
        "refunded",
        "created_at",
        "paid_at",
    )
    list_select_related = ("user",)
    list_filter = ("status", ("created_at", admin.DateFieldListFilter), "currency")
    date_hierarchy = "created_at"
    search_fields = (
        "number",
        "user__email",
        "user__username",
        "=stripe_session_id",
        "=stripe_payment_intent_id",
    )
    search_help_text = (
        "Order number, customer email or username, or an exact Stripe session id (cs_…) "
        "or payment intent (pi_…)."
    )
    list_per_page = 50
    ordering = ("-created_at", "-id")
    actions = ["export_selected_csv"]
    inlines = [OrderItemInline, OrderEventInline]
    fieldsets = (
        (
            "Order",
            {"fields": ("number", "status_pill", "customer", "cart", "created_at", "updated_at", "paid_at")},
        ),
        ("Money", {"fields": ("total", "refunded", "refundable")}),
        (
            "Stripe",
            {
                "description": "Stripe's ids for this payment; the order list searches by them.",
                "fields": (
                    "stripe_session_id",
                    "stripe_payment_intent_id",
                    "checkout_url",
                    "session_expires_at",
                    "content_fingerprint",
                ),
            },
        ),
    )
    readonly_fields = (
        *("number", "status_pill", "customer", "cart", "created_at", "updated_at", "paid_at"),
        *("total", "refunded", "refundable"),
        *("stripe_session_id", "stripe_payment_intent_id", "checkout_url", "session_expires_at"),
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
        url = reverse("admin:accounts_user_change", args=[order.user_id])
        name = user.get_full_name()
        label = f"{name} <{user.email}>" if name and user.email else user.email or user.get_username()
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="status", ordering="status")
    def status_pill(self, order: Order) -> SafeString:
        return status_badge(order.status)

    @admin.display(description="total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return format_money(order.total_amount, order.currency)

    @admin.display(description="refunded", ordering="amount_refunded")
    def refunded(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency) if order.amount_refunded else "—"

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
            context["can_refund"] = request.user.has_perm(REFUND_PERMISSION) and order_can_be_refunded(obj)
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
        """Refund all or part of one order through Stripe (`checkout.refund_order` only)."""
        if not (request.user.has_perm(REFUND_PERMISSION) and self.has_view_permission(request)):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("Order not found.")
        change_url = reverse("admin:checkout_order_change", args=[order.pk])

        form = OrderRefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                refunded = order_refund(
                    order_id=order.pk,
                    amount=form.amount_minor(),
                    staff_user=request.user,
                    expected_amount_refunded=form.cleaned_data["amount_refunded_before"],
                )
            except RefundRefused as exc:
                messages.error(request, f"Stripe refused the refund: {exc.message} ({exc.code}).")
            except PaymentProviderError as exc:
                messages.error(request, f"Stripe failed; nothing was refunded. {exc.message} ({exc.code})")
            except ConflictError as exc:
                messages.warning(request, exc.message)
                return HttpResponseRedirect(change_url)
            except DomainError as exc:
                form.add_error("amount" if exc.field == "amount" else None, exc.message)
            else:
                amount = refunded.amount_refunded - order.amount_refunded
                messages.success(
                    request,
                    f"Refunded {format_money(amount, order.currency)} on order {order.number}; "
                    f"it is now {refunded.get_status_display().lower()}.",
                )
                return HttpResponseRedirect(change_url)

        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.number}",
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": order,
            "order": order,
            "form": form,
            "change_url": change_url,
            "refundable": order_can_be_refunded(order),
            "summary": [
                ("Customer", order.user.email or order.user.get_username()),
                ("Status", status_badge(order.status)),
                ("Total", format_money(order.total_amount, order.currency)),
                ("Already refunded", format_money(order.amount_refunded, order.currency)),
                ("Left to refund", format_money(refundable_amount(order), order.currency)),
                ("Payment intent", order.stripe_payment_intent_id or "—"),
            ],
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/checkout/order/refund.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).select_related("user")


# --------------------------------------------------------------------------- carts


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


# --------------------------------------------------------------------------- Stripe events


class ProcessedFilter(admin.SimpleListFilter):
    title = "processed"
    parameter_name = "processed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Processed"), ("no", "Not processed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> QuerySet[StripeEvent]:
        if self.value() == "yes":
            return queryset.filter(processed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(processed_at__isnull=True)
        return queryset


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    """Every webhook Stripe delivered, as received; read-only (it is the audit trail)."""

    list_display = ("event_id", "type", "received_at", "processed_at")
    list_filter = ("type", ProcessedFilter)
    date_hierarchy = "received_at"
    search_fields = ("=event_id", "type")
    fields = ("event_id", "type", "received_at", "processed_at", "order", "payload_pretty")
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_pretty(self, event: StripeEvent) -> SafeString:
        return format_html(
            '<pre style="white-space:pre-wrap;max-width:900px">{}</pre>',
            json.dumps(event.payload, indent=2, sort_keys=True),
        )

    @admin.display(description="order")
    def order(self, event: StripeEvent) -> SafeString | str:
        """The order the event is about: by the session's order id or the payment intent."""
        obj = ((event.payload or {}).get("data") or {}).get("object") or {}
        metadata = obj.get("metadata") or {}
        order_id = obj.get("client_reference_id") or metadata.get("order_id")
        intent = obj.get("payment_intent") if obj.get("object") == "charge" else None
        query = Order.objects.none()
        if order_id:
            query = Order.objects.filter(pk=order_id) if _is_uuid(str(order_id)) else query
        elif isinstance(intent, str) and intent:
            query = Order.objects.filter(stripe_payment_intent_id=intent)
        order = query.first()
        if order is None:
            return "—"
        url = reverse("admin:checkout_order_change", args=[order.pk])
        return format_html('<a href="{}">{}</a> {}', url, order.number, status_badge(order.status))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
