"""The catalog serializers' direct `to_representation` equals DRF's field-by-field output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from catalog.serializers import CategorySerializer, ProductSerializer
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
    # given
    product = ProductFactory.create(**product_kwargs)
    serializer = ProductSerializer()
    # when
    direct = serializer.to_representation(product)
    generic = serializers.Serializer.to_representation(serializer, product)
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
