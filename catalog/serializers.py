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
from catalog.variants import ProductChildren, VariantRow, image_url, product_children, product_children_attach

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


class CategorySerializer(serializers.Serializer[Category]):
    id = serializers.IntegerField(read_only=True)
    slug = serializers.RegexField(SLUG_PATTERN, read_only=True)
    name = serializers.CharField(read_only=True)

    def to_representation(self, instance: Category) -> dict[str, Any]:
        return category_dict(instance)


def category_dict(category: Category) -> dict[str, Any]:
    return {"id": category.pk, "slug": category.slug, "name": category.name}


class VariantSerializer(serializers.Serializer[Any]):
    """variant = {id, sku, title, options, unit_amount, currency, available_quantity, in_stock}."""

    id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True, help_text="The option values (“M / Red”), or “Default”.")
    options = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text='Option name → value, e.g. {"Size": "M"}.'
    )
    unit_amount = serializers.IntegerField(read_only=True, help_text="Price in minor units.")
    currency = serializers.CharField(read_only=True)
    available_quantity = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Units that can be bought now (never below 0); null when stock is not tracked (unlimited).",
    )
    in_stock = serializers.BooleanField(read_only=True)


class OptionSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(read_only=True)
    values = serializers.ListField(child=serializers.CharField(), read_only=True)


class ImageSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(read_only=True, help_text="Absolute URL of the picture.")
    alt = serializers.CharField(read_only=True)


def variant_dict(variant: VariantRow) -> dict[str, Any]:
    return {
        "id": variant.id,
        "sku": variant.sku,
        "title": variant.display_title,
        "options": variant.options,
        "unit_amount": variant.unit_amount,
        "currency": variant.currency,
        "available_quantity": variant.available_quantity,
        "in_stock": variant.in_stock,
    }


class ProductListSerializer(serializers.ListSerializer[Product]):
    """A page of products: their variants, options and images come in one query for the page."""

    def to_representation(self, data: Any) -> list[Any]:
        products = list(data.all() if hasattr(data, "all") else data)
        product_children_attach(products)
        return super().to_representation(products)


class ProductSerializer(serializers.Serializer[Product]):
    """A product with its variants, options and images; `unit_amount` is its lowest active price."""

    # Querysets feeding it must `select_related("category")`; the children come from
    # `catalog.variants` (one query per page, or per product when serialized alone).

    id = serializers.IntegerField(read_only=True)
    slug = serializers.RegexField(SLUG_PATTERN, read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    unit_amount = serializers.IntegerField(
        read_only=True, help_text="The lowest active variant's price, minor units (paise for INR)."
    )
    currency = serializers.CharField(read_only=True)
    category = CategorySerializer(read_only=True, allow_null=True)
    # A string, not `format: uri`: a product without a picture has "" (as it always had).
    image_url = serializers.CharField(
        read_only=True, help_text="The first image's absolute URL; empty when the product has no image."
    )
    is_active = serializers.BooleanField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True, help_text="Any active variant can be bought now.")
    options = OptionSerializer(many=True, read_only=True)
    variants = VariantSerializer(
        many=True, read_only=True, help_text="The active variants, in display order."
    )
    images = ImageSerializer(many=True, read_only=True)

    class Meta:
        list_serializer_class = ProductListSerializer

    def to_representation(self, instance: Product) -> dict[str, Any]:
        category = instance.category
        children: ProductChildren = product_children(instance)
        request = self.context.get("request")
        images = [{"url": image_url(name, request), "alt": alt} for name, alt in children.images]
        return {
            "id": instance.pk,
            "slug": instance.slug,
            "name": instance.name,
            "description": instance.description,
            "unit_amount": instance.unit_amount,
            "currency": instance.currency,
            "category": None if category is None else category_dict(category),
            "image_url": images[0]["url"] if images else instance.image_url,
            "is_active": instance.is_active,
            "in_stock": children.in_stock,
            "options": [{"name": name, "values": values} for name, values in children.options],
            "variants": [variant_dict(variant) for variant in children.variants],
            "images": images,
        }
