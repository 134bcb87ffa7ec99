"""Catalog serializers: the public product and category shapes (the schema, `schema.yml`, publishes them).

They declare their fields instead of deriving them from the models, because a `ModelSerializer`
re-introspects the model on every request (`get_fields`). The shapes are read-only.

The declared fields are the contract (the schema is generated from them); `to_representation`
builds the same dict directly, because walking every field of every product through DRF's
generic machinery is a large share of a product page's CPU time (docs/benchmarks.md). A test
compares the two outputs key by key, so a field added to one and not the other fails.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import Category, Product

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


class CategorySerializer(serializers.Serializer[Category]):
    id = serializers.IntegerField(read_only=True)
    slug = serializers.RegexField(SLUG_PATTERN, read_only=True)
    name = serializers.CharField(read_only=True)

    def to_representation(self, instance: Category) -> dict[str, Any]:
        return category_dict(instance)


def category_dict(category: Category) -> dict[str, Any]:
    return {"id": category.pk, "slug": category.slug, "name": category.name}


class ProductSerializer(serializers.Serializer[Product]):
    """product = {id, slug, name, description, unit_amount, currency, category, image_url, is_active}.

    Querysets feeding it must `select_related("category")`.
    """

    id = serializers.IntegerField(read_only=True)
    slug = serializers.RegexField(SLUG_PATTERN, read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    unit_amount = serializers.IntegerField(read_only=True, help_text="Price in minor units (paise for INR).")
    currency = serializers.CharField(read_only=True)
    category = CategorySerializer(read_only=True, allow_null=True)
    image_url = serializers.URLField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    def to_representation(self, instance: Product) -> dict[str, Any]:
        category = instance.category
        return {
            "id": instance.pk,
            "slug": instance.slug,
            "name": instance.name,
            "description": instance.description,
            "unit_amount": instance.unit_amount,
            "currency": instance.currency,
            "category": None if category is None else category_dict(category),
            "image_url": instance.image_url,
            "is_active": instance.is_active,
        }
