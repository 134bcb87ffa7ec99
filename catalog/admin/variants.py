"""Variants in the back-office: stock levels across the catalog, the low-stock filter, bulk stock
adjustment with a reason, and a link to each variant's ledger.

On hand, held and available are one list query (catalog/availability.py annotations). Stock is
never edited on a variant's own page: the "Adjust stock" action (`catalog.stock.stock_adjust`,
one ledger row per variant) or the product page's variants inline (a counted number) change it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString

from catalog.admin.common import (
    CatalogWritesAdmin,
    admin_change_link,
    available_of,
    held_of,
    ledger_link,
    low_stock_of,
    money_cell,
    stock_cell,
)
from catalog.admin.inlines import VariantForm
from catalog.availability import (
    low_stock_condition,
    low_stock_threshold,
    out_of_stock_condition,
    variants_with_availability,
)
from catalog.models import ProductVariant
from catalog.stock import stock_adjust
from catalog.variants import product_sync
from shopapi.exceptions import DomainError

SHOWN_ON_THE_FORM = 100  # variants listed on the adjustment page (all selected ones are adjusted)


class StockLevelFilter(admin.SimpleListFilter):
    """Low stock (at most `LOW_STOCK_THRESHOLD` available, out of stock included), out of stock,
    or not tracked."""

    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("low", f"Low stock (≤ {low_stock_threshold()} available)"),
            ("out", "Out of stock"),
            ("untracked", "Not tracked"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ProductVariant]) -> QuerySet[ProductVariant]:
        value = self.value()
        if value == "low":
            return queryset.filter(low_stock_condition())
        if value == "out":
            return queryset.filter(out_of_stock_condition())
        if value == "untracked":
            return queryset.filter(stock_on_hand__isnull=True)
        return queryset


class AdjustStockForm(forms.Form):
    delta = forms.IntegerField(
        label="Units to add (negative to remove)",
        help_text="Added to each selected variant's stock on hand; an untracked variant starts at 0.",
    )
    note = forms.CharField(
        label="Reason", max_length=255, help_text="Why, for the ledger: “delivery 2024-06-01”, “recount”."
    )

    def clean_delta(self) -> int:
        delta: int = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("Enter a number of units other than 0.")
        return delta


@admin.register(ProductVariant)
class ProductVariantAdmin(CatalogWritesAdmin):
    list_display = (
        *("sku", "product_link", "display_title", "price", "on_hand", "held", "available"),
        *("low_stock", "is_active", "ledger"),
    )
    list_select_related = ("product",)
    list_filter = (StockLevelFilter, "is_active")
    search_fields = ("sku", "product__name")
    search_help_text = "A SKU or a product name (or part of one)."
    ordering = ("product_id", "position", "id")
    actions = ["adjust_stock"]
    autocomplete_fields = ("product",)
    form = VariantForm
    fields = (
        *("product", "sku", "title", "options", "unit_amount", "price", "currency", "is_active", "position"),
        "requires_shipping",
        *("on_hand", "held", "available", "ledger", "created_at", "updated_at"),
    )
    readonly_fields = ("price", "on_hand", "held", "available", "ledger", "created_at", "updated_at")
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductVariant]:
        return variants_with_availability(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A variant stays with its product (its orders and ledger say so).
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "product") if obj is not None else fields

    # ---- columns

    @admin.display(description="product", ordering="product__name")
    def product_link(self, variant: ProductVariant) -> SafeString | str:
        return admin_change_link(variant.product, variant.product.name)

    @admin.display(description="variant")
    def display_title(self, variant: ProductVariant) -> str:
        return variant.display_title

    @admin.display(description="price", ordering="unit_amount")
    def price(self, variant: ProductVariant) -> str:
        return money_cell(variant.unit_amount, variant.currency)

    @admin.display(description="on hand", ordering="stock_on_hand")
    def on_hand(self, variant: ProductVariant) -> str:
        return stock_cell(variant, variant.stock_on_hand)

    @admin.display(description="held")
    def held(self, variant: ProductVariant) -> str:
        return stock_cell(variant, held_of(variant))

    @admin.display(description="available", ordering="_available")
    def available(self, variant: ProductVariant) -> str:
        return stock_cell(variant, available_of(variant))

    @admin.display(description="low stock", boolean=True)
    def low_stock(self, variant: ProductVariant) -> bool | None:
        return low_stock_of(variant)

    @admin.display(description="ledger")
    def ledger(self, variant: ProductVariant) -> SafeString | str:
        return ledger_link(variant)

    # ---- saving: never the stock; the product's price follows

    def save_model(self, request: HttpRequest, obj: ProductVariant, form: ModelForm, change: bool) -> None:
        """A new variant starts untracked (stock comes through the ledger); a changed one writes
        only the columns the form changed, never `stock_on_hand`."""
        if not change:
            obj.stock_on_hand = None
            obj.save()
            return
        changed = [name for name in form.changed_data if name != "stock_on_hand"]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product_sync([form.instance.product_id])

    def delete_model(self, request: HttpRequest, obj: ProductVariant) -> None:
        super().delete_model(request, obj)
        product_sync([obj.product_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProductVariant]) -> None:
        product_ids = set(queryset.values_list("product_id", flat=True))
        super().delete_queryset(request, queryset)
        product_sync(product_ids)

    # ---- the bulk stock adjustment

    @admin.action(description="Adjust stock of the selected variants", permissions=["change"])
    def adjust_stock(
        self, request: HttpRequest, queryset: QuerySet[ProductVariant]
    ) -> TemplateResponse | None:
        """An intermediate page asks for the units and the reason; then `stock_adjust` per variant,
        each in its own transaction. A variant it refuses (it would go below 0) is named in an
        error message and left as it was; the others are adjusted."""
        form = AdjustStockForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._adjust(request, queryset, form.cleaned_data["delta"], form.cleaned_data["note"])
            return None
        across = request.POST.get("select_across") == "1"  # "select all N", not one page
        opts = self.opts
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust stock",
            "opts": opts,
            "app_label": opts.app_label,
            "form": form,
            "variants": list(queryset.select_related("product").order_by("pk")[:SHOWN_ON_THE_FORM]),
            "count": queryset.count(),
            "selected": [] if across else list(queryset.values_list("pk", flat=True)),
            "select_across": "1" if across else "0",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalog/productvariant/adjust_stock.html", context)

    def _adjust(
        self, request: HttpRequest, queryset: QuerySet[ProductVariant], delta: int, note: str
    ) -> None:
        actor = request.user.get_username()
        adjusted: list[str] = []
        for variant_id, sku in queryset.order_by("pk").values_list("pk", "sku"):
            try:
                stock_adjust(variant_id=variant_id, delta=delta, actor=actor, note=note)
            except DomainError as exc:
                messages.error(request, f"Not adjusted: {exc.message}")
            else:
                adjusted.append(sku)
        if adjusted:
            messages.success(
                request, f"Stock {delta:+d} on {len(adjusted)} variant(s) ({', '.join(adjusted)}): {note}."
            )
