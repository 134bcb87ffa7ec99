"""Catalog reads: the querysets the public API serves (active products only, category joined)."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.filters import DEFAULT_PRODUCT_ORDERING
from catalog.models import Category, Product


def product_list_active() -> QuerySet[Product]:
    """Active products with their category, newest first (ties by id): one query per page."""
    return (
        Product.objects.filter(is_active=True).select_related("category").order_by(*DEFAULT_PRODUCT_ORDERING)
    )


def category_list() -> QuerySet[Category]:
    """Every category, by name (ties by id)."""
    return Category.objects.order_by("name", "id")
