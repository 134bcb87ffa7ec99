"""Catalog models: categories and products, prices in integer minor units."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# At most 8 digits of minor units: the largest single amount the payment provider accepts.
MAX_UNIT_AMOUNT = 99_999_999


def default_currency() -> str:
    return str(settings.DEFAULT_CURRENCY)


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    unit_amount = models.PositiveIntegerField(help_text="Price in minor units (paise for INR).")
    currency = models.CharField(max_length=3, default=default_currency)
    is_active = models.BooleanField(default=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    image_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_amount__gt=0) & models.Q(unit_amount__lte=MAX_UNIT_AMOUNT),
                name="catalog_product_unit_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[a-z]{3}$"),
                name="catalog_product_currency_lower_iso",
            ),
        ]
        indexes = [
            models.Index(fields=["is_active", "-created_at", "-id"], name="product_active_created_idx"),
            models.Index(fields=["is_active", "unit_amount", "id"], name="product_active_price_idx"),
            models.Index(fields=["is_active", "name", "id"], name="product_active_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name
