"""The catalog serializers' direct `to_representation` equals DRF's field-by-field output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from catalog.models import ProductImage, ProductOption, ProductVariant
from catalog.serializers import CategorySerializer, ProductSerializer, variant_dict
from catalog.variants import image_url, product_children
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _rendered(data: Any) -> bytes:
    return JSONRenderer().render(data)


@pytest.mark.parametrize(
    "product_kwargs",
    [
        {},
        {"category": None, "image_url": ""},
        {"image_url": "https://cdn.example.com/p/1.jpg", "is_active": False, "description": ""},
        {"name": 'सूती कुर्ता "quoted"', "unit_amount": 1},
    ],
)
def test_product_dict_is_what_the_declared_fields_give(product_kwargs: dict[str, Any]) -> None:
    # given: a product with a second, tracked variant, an option and an image
    product = ProductFactory.create(**product_kwargs)
    ProductOption.objects.create(product=product, name="Size", values=["S", "M"])
    ProductVariant.objects.create(
        product=product,
        sku=f"{product.slug}-m",
        options={"Size": "M"},
        unit_amount=2,
        stock_on_hand=4,
        position=1,
    )
    ProductImage.objects.create(product=product, image="products/a.png", alt="front")
    serializer = ProductSerializer()
    # when: DRF's generic path reads the children as the direct one does, from `catalog.variants`
    direct = serializer.to_representation(product)
    children = product_children(product)
    names: list[str] = list(serializer.fields)
    fields: dict[str, Any] = {name: getattr(product, name) for name in names if hasattr(product, name)}
    shaped: dict[str, Any] = {
        **fields,
        "image_url": direct["image_url"],
        "in_stock": children.in_stock,
        "options": [{"name": name, "values": values} for name, values in children.options],
        "variants": [variant_dict(variant) for variant in children.variants],
        "images": [{"url": image_url(name), "alt": alt} for name, alt in children.images],
    }
    generic = serializers.Serializer.to_representation(serializer, shaped)  # type: ignore[misc]
    # then: same keys in the same order, same values, same bytes on the wire
    assert list(direct) == list(generic) == list(serializer.fields)
    assert json.loads(_rendered(direct)) == json.loads(_rendered(generic))
    assert _rendered(direct) == _rendered(generic)


def test_category_dict_is_what_the_declared_fields_give() -> None:
    # given
    category = ProductFactory.create().category
    assert category is not None
    serializer = CategorySerializer()
    # when
    direct = serializer.to_representation(category)
    generic = serializers.Serializer.to_representation(serializer, category)
    # then
    assert list(direct) == list(serializer.fields)
    assert _rendered(direct) == _rendered(generic)
