"""Catalog serializers: the public product and category shapes (see API.md).

They declare their fields instead of deriving them from the models: a `ModelSerializer`
re-introspects the model on every request (`get_fields`), which cost about a seventh of a
product page's CPU time. The shapes are read-only.
"""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import Category, Product

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


class CategorySerializer(serializers.Serializer[Category]):
    id = serializers.IntegerField(read_only=True)
    slug = serializers.RegexField(SLUG_PATTERN, read_only=True)
    name = serializers.CharField(read_only=True)


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
