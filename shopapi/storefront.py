"""The example storefront (storefront/, TypeScript + Vite) served at / from its committed build.

`make run` shows a shop with nothing but Python: `storefront/dist` is built by `make storefront-build`
and committed, so no node is needed to run it (README "Storefront"). Only when `SERVE_STOREFRONT`
(default: DEBUG). Each page path answers index.html, so a reload or an emailed link opens that page;
the hashed assets under /assets/ are cached for a year, index.html never.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path
from django.views.static import serve

# The storefront's client-side routes (storefront/src/main.ts).
PAGES = ("", "cart", "signin", "register", "reset-password", "verify-email", "checkout/success", "orders")


def index(request: HttpRequest) -> HttpResponse:
    """The storefront's index.html, for every page path."""
    try:
        html = (settings.STOREFRONT_DIST / "index.html").read_bytes()
    except FileNotFoundError:
        raise Http404("The storefront is not built: run `make storefront-build`.") from None
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def asset(request: HttpRequest, path: str) -> FileResponse:
    """A built file (content-hashed name under assets/, or the favicon)."""
    response: FileResponse = serve(request, path, document_root=str(settings.STOREFRONT_DIST))
    if path.startswith("assets/"):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def urlpatterns() -> list[URLPattern]:
    """The storefront's routes, or none when it is not served."""
    if not settings.SERVE_STOREFRONT:
        return []
    pages = "|".join(page for page in PAGES if page)
    return [
        path("", index, name="storefront"),
        re_path(rf"^(?:{pages}|products/[-\w]+)/?$", index),
        re_path(r"^(?P<path>assets/[-\w.]+|favicon\.svg)$", asset),
    ]
