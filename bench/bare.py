"""The framework ceiling: the product list as a plain Django view (no DRF), for `bench/wsgi.py`.

Same query as `GET /api/v1/products/` (active products, category joined, newest first with the id
tiebreaker, 20 rows plus one to know whether there is a next page), same fields, serialized with a
dict comprehension and `JsonResponse`. It is served through the same middleware stack as shopapi,
so the ratio of the two isolates what DRF, filters, pagination and serializers cost.
"""

from __future__ import annotations

import base64
import json

from django.http import HttpRequest, JsonResponse
from django.urls import path

from catalog.models import Product

PAGE_SIZE = 20


def _cursor(product: Product) -> str:
    payload = {"o": ["-created_at", "-id"], "r": False, "p": [product.created_at.isoformat(), product.pk]}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def products_bare(request: HttpRequest) -> JsonResponse:
    rows = list(
        Product.objects.filter(is_active=True)
        .select_related("category")
        .order_by("-created_at", "-id")[: PAGE_SIZE + 1]
    )
    page = rows[:PAGE_SIZE]
    results = [
        {
            "id": p.pk,
            "slug": p.slug,
            "name": p.name,
            "description": p.description,
            "unit_amount": p.unit_amount,
            "currency": p.currency,
            "category": (
                {"id": p.category.pk, "slug": p.category.slug, "name": p.category.name}
                if p.category
                else None
            ),
            "image_url": p.image_url,
            "is_active": p.is_active,
        }
        for p in page
    ]
    next_url = None
    if len(rows) > PAGE_SIZE:
        next_url = request.build_absolute_uri(f"{request.path}?cursor={_cursor(page[-1])}")
    return JsonResponse({"next": next_url, "previous": None, "results": results})


urlpatterns = [path("bench/django-bare/products/", products_bare, name="bench-products-bare")]
