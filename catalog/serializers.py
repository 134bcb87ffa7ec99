"""Catalog serializers: the public product and category shapes (see API.md)."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import Category, Product


class CategorySerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer[Product]):
    """product = {id, slug, name, description, unit_amount, currency, category, image_url, is_active}.

    Querysets feeding it must `select_related("category")`.
    """

    category = CategorySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "unit_amount",
            "currency",
            "category",
            "image_url",
            "is_active",
        ]
        read_only_fields = fields
