"""The framework ceiling: the product list as a plain Django view (no DRF), for `bench/wsgi.py`.

Same query as `GET /api/v1/products/` (active products, category joined, newest first with the id
tiebreaker, 20 rows plus one to know whether there is a next page), same fields — variants with
what live holds leave available, options and images read the plain way, one `.values()` query
each — serialized with dict comprehensions and `JsonResponse`. It is served through the same
middleware stack as shopapi, so the ratio of the two isolates what DRF, filters, pagination and
serializers cost.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone

from catalog.models import Product, ProductImage, ProductOption, ProductVariant
from catalog.stock import available_quantity, held_total

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
    ids = [p.pk for p in page]
    variants: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in (
        ProductVariant.objects.filter(product_id__in=ids, is_active=True)
        .annotate(held=held_total(timezone.now()))
        .order_by("position", "id")
        .values(
            "product_id", "id", "sku", "title", "options", "unit_amount", "currency", "stock_on_hand", "held"
        )
    ):
        left = available_quantity(v["stock_on_hand"], v["held"])
        variants[v["product_id"]].append(
            {
                "id": v["id"],
                "sku": v["sku"],
                "title": v["title"] or " / ".join(map(str, v["options"].values())) or "Default",
                "options": v["options"],
                "unit_amount": v["unit_amount"],
                "currency": v["currency"],
                "available_quantity": left,
                "in_stock": left is None or left > 0,
            }
        )
    options: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for o in ProductOption.objects.filter(product_id__in=ids).order_by("position", "id").values():
        options[o["product_id"]].append({"name": o["name"], "values": o["values"]})
    images: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for i in ProductImage.objects.filter(product_id__in=ids).order_by("position", "id").values():
        images[i["product_id"]].append(
            {"url": request.build_absolute_uri(f"/media/{i['image']}"), "alt": i["alt"]}
        )
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
            "image_url": images[p.pk][0]["url"] if images[p.pk] else p.image_url,
            "is_active": p.is_active,
            "in_stock": any(v["in_stock"] for v in variants[p.pk]),
            "options": options[p.pk],
            "variants": variants[p.pk],
            "images": images[p.pk],
        }
        for p in page
    ]
    next_url = None
    if len(rows) > PAGE_SIZE:
        next_url = request.build_absolute_uri(f"{request.path}?cursor={_cursor(page[-1])}")
    return JsonResponse({"next": next_url, "previous": None, "results": results})


urlpatterns = [path("bench/django-bare/products/", products_bare, name="bench-products-bare")]
