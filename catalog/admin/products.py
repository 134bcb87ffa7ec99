"""Categories and products in the back-office: the product with its variants, options and images.

The product's price is its lowest active variant's (`catalog.variants.product_sync`, called
after the inlines are saved), so it is read-only here. The list shows it with the number of
variants, the units available over them and a "low stock" flag, all from subqueries of the one
list query (catalog/availability.py `products_with_stock`).

The product search is the storefront's word matching (`catalog.search.search_condition`): every
word in the name or the description, served by the search document's trigram index.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal

from catalog.admin.common import CatalogWritesAdmin
from catalog.admin.inlines import (
    ProductImageInline,
    ProductOptionInline,
    ProductVariantInline,
    VariantFormSet,
)
from catalog.availability import products_with_stock
from catalog.models import Category, Product, ProductVariant, StockMovement
from catalog.money import format_money
from catalog.search import normalize_terms, search_condition
from catalog.stock import stock_set
from catalog.variants import product_sync

ADMIN_STOCK_NOTE = "edited in the admin"


@admin.register(Category)
class CategoryAdmin(CatalogWritesAdmin):
    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description="products", ordering="_product_count")
    def product_count(self, obj: Category) -> int:
        return int(getattr(obj, "_product_count", 0))


@admin.register(Product)
class ProductAdmin(CatalogWritesAdmin):
    list_display = [
        "name",
        "category",
        "price",
        "variant_count",
        "stock",
        "low_stock",
        "is_active",
        "updated_at",
    ]
    list_display_links = ["name"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "category"]
    list_select_related = ["category"]
    # What the search box matches; `get_search_results` builds the indexed SQL for it.
    search_fields = ["name", "description", "slug__exact"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["category"]
    readonly_fields = ["price", "currency", "created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "category",
        "description",
        "price",
        "currency",
        "is_active",
        "requires_shipping",
        "image_url",
        "created_at",
        "updated_at",
    ]
    inlines = [ProductVariantInline, ProductOptionInline, ProductImageInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # A million-row catalog: don't count the whole table a second time on every filtered page.
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return products_with_stock(super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A product is added with its first variant: no variants inline, no product.
        return super().has_add_permission(request) and request.user.has_perm("catalog.add_productvariant")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Product], search_term: str
    ) -> tuple[QuerySet[Product], bool]:
        """Every word in the name or the description, or the whole term as the exact slug.

        The words go through `search_condition`, which the trigram index
        `product_search_document_trgm` serves; the slug through its unique index (`slug = …`,
        not Django's case-insensitive `UPPER(slug) = …`, which no index serves). Words are split
        as the admin splits them: a quoted phrase is one word.
        """
        words = normalize_terms(
            [
                unescape_string_literal(bit) if bit[0] in "\"'" and bit[0] == bit[-1] else bit
                for bit in smart_split(search_term)
            ]
        )
        if not words:
            return queryset, False
        condition = search_condition(words)
        if len(words) == 1:
            condition |= Q(slug=words[0])
        return queryset.filter(condition), False

    # ---- columns

    @admin.display(description="price (lowest variant)", ordering="unit_amount")
    def price(self, obj: Product) -> str:
        if obj.unit_amount is None:
            return "-"
        return format_money(obj.unit_amount, obj.currency)

    @admin.display(description="variants")
    def variant_count(self, obj: Product) -> int:
        return int(getattr(obj, "_variant_count", 0) or 0)

    @admin.display(description="available")
    def stock(self, obj: Product) -> str:
        """Units available over the active tracked variants; untracked ones never run out."""
        total = getattr(obj, "_available_total", None)
        untracked = bool(getattr(obj, "_untracked", False))
        if total is None:
            return "not tracked" if untracked else "—"
        return f"{total} + not tracked" if untracked else str(total)

    @admin.display(description="low stock", boolean=True)
    def low_stock(self, obj: Product) -> bool:
        return bool(getattr(obj, "_low_stock", False))

    # ---- saving: variants' stock through the ledger, then the product's price

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        """A changed product writes only the columns the form changed: never the price, which
        `product_sync` may have moved since the page was loaded.

        Its variants are locked first, in id order as every stock flow locks them, then the
        product row (as a variant's own page does: its row, then `product_sync`), so saving a
        product can't deadlock with a checkout, a sale or another staff member's save.
        """
        if not change:
            super().save_model(request, obj, form, change)
            return
        from checkout.locks import lock_variants  # the one home of locks; checkout imports catalog

        lock_variants(ProductVariant.objects.filter(product=obj).values_list("pk", flat=True))
        columns = {field.name for field in obj._meta.concrete_fields}
        changed = [name for name in form.changed_data if name in columns]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        """The variants' rows first (their stock left alone), then each stock number typed in the
        inline through `stock_set`, recorded as a ledger row by the staff member.

        A new variant given a number starts its ledger with an `import` row (its opening stock,
        counted outside the shop); a number changed on an existing variant is an `adjustment`.
        The existing variants were locked by `save_model`.
        """
        if not isinstance(formset, VariantFormSet):
            super().save_formset(request, form, formset, change)
            return
        formset.save()
        actor = request.user.get_username()
        for stock in formset.stock_changes:
            stock_set(
                variant_id=stock.variant_id,
                on_hand=stock.on_hand,
                actor=actor,
                note=ADMIN_STOCK_NOTE,
                reason=StockMovement.Reason.IMPORT if stock.new_variant else StockMovement.Reason.ADJUSTMENT,
            )

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product_sync([form.instance.pk])
