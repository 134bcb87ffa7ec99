"""Catalog admin: staff edit products (price in minor units, shown as money) and categories.

The product search is the storefront's word matching (`catalog.search.search_condition`): every
word in the name or the description, served by the search document's trigram index.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal

from catalog.models import Category, Product
from catalog.money import format_money
from catalog.search import normalize_terms, search_condition


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
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
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "unit_amount", "currency", "is_active", "updated_at"]
    list_display_links = ["name"]
    list_editable = ["unit_amount", "is_active"]
    list_filter = ["is_active", "category"]
    list_select_related = ["category"]
    # What the search box matches; `get_search_results` builds the indexed SQL for it.
    search_fields = ["name", "description", "slug__exact"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["category"]
    readonly_fields = ["price", "created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "category",
        "description",
        "unit_amount",
        "price",
        "currency",
        "is_active",
        "image_url",
        "created_at",
        "updated_at",
    ]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # A million-row catalog: don't count the whole table a second time on every filtered page.
    show_full_result_count = False
    list_per_page = 50

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

    @admin.display(description="price", ordering="unit_amount")
    def price(self, obj: Product) -> str:
        if obj.unit_amount is None:
            return "-"
        return format_money(obj.unit_amount, obj.currency)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "unit_amount" and field is not None:
            field.help_text = "Minor units: 149900 is ₹1,499.00."
        return field
