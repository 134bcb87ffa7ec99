"""Pieces the catalog admin screens share: stock cells, links to the ledger, the variant filter, and
`CatalogWritesAdmin`, which reports every admin write to the catalog read cache."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from catalog.availability import is_low_stock
from catalog.cache import catalog_changed
from catalog.models import ProductVariant
from catalog.money import format_money

NOT_TRACKED = "not tracked"


def money_cell(amount: int | None, currency: str | None) -> str:
    return "—" if amount is None or not currency else format_money(amount, currency)


def held_of(variant: ProductVariant) -> int | None:
    """Units live reservations hold (annotated by `variants_with_availability`); None when not loaded."""
    held = getattr(variant, "_held", None)
    return None if held is None else int(held)


def available_of(variant: ProductVariant) -> int | None:
    """Units available (annotated); None when the stock is not tracked or not loaded."""
    available = getattr(variant, "_available", None)
    return None if available is None else int(available)


def stock_cell(variant: ProductVariant, value: int | None) -> str:
    """A stock number for a list: "not tracked" for an untracked variant, "—" for an unsaved one."""
    if variant.pk is None:
        return "—"
    if variant.stock_on_hand is None:
        return NOT_TRACKED
    return "—" if value is None else str(value)


def low_stock_of(variant: ProductVariant) -> bool | None:
    """The "low stock" flag of a saved variant (None, no icon, for an unsaved one)."""
    return None if variant.pk is None else is_low_stock(available_of(variant))


def ledger_url(variant_id: int) -> str:
    return reverse("admin:catalog_stockmovement_changelist") + f"?{VariantFilter.parameter_name}={variant_id}"


def ledger_link(variant: ProductVariant) -> SafeString | str:
    if variant.pk is None:
        return "—"
    return format_html('<a href="{}" class="stock-ledger-link">ledger</a>', ledger_url(variant.pk))


class VariantFilter(admin.SimpleListFilter):
    """Rows of one variant (`?variant=<id>`, as the ledger links set it).

    Unlike a related-field filter it never lists every variant (a large catalog has millions):
    the sidebar shows only the variant chosen.
    """

    title = "variant"
    parameter_name = "variant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The admin applies only a filter that lists a choice: the chosen one, even if unknown.
        value = self.value()
        if value is None:
            return []
        if not value.isdigit():
            raise IncorrectLookupParameters(f"variant must be a number, not {value!r}")
        sku = ProductVariant.objects.filter(pk=int(value)).values_list("sku", flat=True).first()
        return [(value, sku or f"#{value} (no such variant)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset if value is None else queryset.filter(variant_id=int(value))


def admin_change_link(obj: Model | None, label: str) -> SafeString | str:
    """A link to `obj`'s admin change page labelled `label`, or "—"."""
    if obj is None:
        return "—"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label)


class CatalogWritesAdmin(admin.ModelAdmin):
    """Every POST to a catalog admin screen may write the catalog: saves with their inlines
    (variants, options, images), deletions, list edits and bulk actions. After the screen has
    done its work, `catalog_changed()` bumps the catalog version when that work commits (at once
    when it already has), so no process serves a page built before it. A POST that changed
    nothing (a form with errors) costs one cache miss per page, nothing more."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if request.method == "POST":
            catalog_changed()
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if request.method == "POST":
            catalog_changed()
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().delete_view(request, object_id, extra_context)
        if request.method == "POST":
            catalog_changed()
        return response
