"""One WSGI app for the benchmark, so all three sides share one gunicorn (same workers, same run).

- `/bench/static`: a constant JSON body straight from WSGI (the server ceiling: gunicorn alone);
- `/bench/django-bare/...`: plain Django views from `bench.bare` behind shopapi's own middleware
  (the framework ceiling);
- everything else: shopapi's application, unchanged.

Serve with `gunicorn bench.wsgi:application` and the same environment as shopapi.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapi.settings")

shop = get_wsgi_application()

# Roughly the size of a 20-product page, so both ceilings move comparable bytes.
STATIC_BODY = json.dumps(
    {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": i,
                "slug": f"product-{i:06d}",
                "name": "Static reference product",
                "description": "A constant body served by raw WSGI: what the server alone can do.",
                "unit_amount": 49900,
                "currency": "inr",
                "category": {"id": 1, "slug": "static", "name": "Static"},
                "image_url": "",
                "is_active": True,
            }
            for i in range(20)
        ],
    }
).encode()
STATIC_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(STATIC_BODY)))]


class BareDjangoHandler(WSGIHandler):
    """Django's WSGI handler resolving against `bench.bare` instead of shopapi's ROOT_URLCONF."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = "bench.bare"  # type: ignore[attr-defined]  # Django's per-request URLconf
        return super().get_response(request)


bare = BareDjangoHandler()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if path == "/bench/static":
        start_response("200 OK", STATIC_HEADERS)
        return [STATIC_BODY]
    if path.startswith("/bench/django-bare/"):
        return bare(environ, start_response)
    return shop(environ, start_response)
