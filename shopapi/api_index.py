"""`GET /api/v1/`: a JSON index of the API, so its first URL answers something useful.

Links are absolute (built from the request's host), to the schema, both docs pages and the main
resources. A route that is not installed is left out rather than linked to a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

# (key in `links`, URL name): what a newcomer looks for first.
LINKS = (
    ("schema", "schema"),
    ("docs", "swagger-ui"),
    ("redoc", "redoc"),
    ("products", "product-list"),
    ("categories", "category-list"),
    ("shipping_methods", "shipping-methods"),
    ("carts", "cart-list"),
    ("orders", "order-list"),
    ("register", "auth-register"),
    ("token", "auth-token"),
    ("me", "auth-me"),
)

_index_serializer = inline_serializer(
    name="ApiIndex",
    fields={
        "name": serializers.CharField(),
        "version": serializers.CharField(),
        "description": serializers.CharField(),
        "links": serializers.DictField(
            child=serializers.URLField(), help_text="Absolute URLs: `schema`, `docs`, `redoc`, `products` …"
        ),
    },
)


def _links(request: Request) -> dict[str, str]:
    links = {}
    for key, name in LINKS:
        try:
            links[key] = request.build_absolute_uri(reverse(name))
        except NoReverseMatch:
            continue
    return links


@extend_schema(
    tags=["service"],
    operation_id="api_index",
    summary="Index of the API: links to the schema, the docs and the main resources",
    responses={200: _index_serializer},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def api_index(request: Request) -> Response:
    """Where to start: the OpenAPI schema, Swagger UI, ReDoc and the main collections."""
    spectacular = settings.SPECTACULAR_SETTINGS
    return Response(
        {
            "name": spectacular["TITLE"],
            "version": spectacular["VERSION"],
            "description": spectacular["DESCRIPTION"],
            "links": _links(request),
        }
    )
