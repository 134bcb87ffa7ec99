"""The framework ceiling: the product list as a plain Django view (no DRF), for `bench/wsgi.py`.

Same query as `GET /api/v1/products/` (active products, category joined, newest first with the id
tiebreaker, 20 rows plus one to know whether there is a next page), same fields (variants, options
and images through the same one query, `catalog.variants.product_children_attach`), serialized
with plain dicts and `JsonResponse`. It is served through the same middleware stack as shopapi,
so the ratio of the two isolates what DRF, filters, pagination and serializers cost.
"""

from __future__ import annotations

import base64
import json

from django.core.files.storage import default_storage
from django.http import HttpRequest, JsonResponse
from django.urls import path

from catalog.models import Product
from catalog.variants import product_children, product_children_attach

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
    # The same one query for variants, options and images as the API (a data-access helper, no
    # DRF), so the ratio isolates what DRF, filters, pagination and serializers cost.
    product_children_attach(page)
    results = []
    for p in page:
        children = product_children(p)
        images = [
            {"url": request.build_absolute_uri(default_storage.url(name)), "alt": alt}
            for name, alt in children.images
        ]
        variants = [
            {
                "id": v.id,
                "sku": v.sku,
                "title": v.display_title,
                "options": v.options,
                "unit_amount": v.unit_amount,
                "currency": v.currency,
                "available_quantity": v.available_quantity,
                "in_stock": v.in_stock,
            }
            for v in children.variants
        ]
        results.append(
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
                "image_url": images[0]["url"] if images else p.image_url,
                "is_active": p.is_active,
                "in_stock": children.in_stock,
                "options": [{"name": name, "values": values} for name, values in children.options],
                "variants": variants,
                "images": images,
            }
        )
    next_url = None
    if len(rows) > PAGE_SIZE:
        next_url = request.build_absolute_uri(f"{request.path}?cursor={_cursor(page[-1])}")
    return JsonResponse({"next": next_url, "previous": None, "results": results})


urlpatterns = [path("bench/django-bare/products/", products_bare, name="bench-products-bare")]
