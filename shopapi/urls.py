"""Root URL configuration: service probes, admin, API v1 and its docs (and local media in development)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from shopapi import health, storefront
from shopapi.api_index import api_index

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_index, name="api-index"),
    path("api/v1/auth/", include("accounts.urls")),
    path("api/v1/", include("catalog.urls")),
    path("api/v1/", include("checkout.urls")),
    path("api/v1/", include("payments.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # The example storefront at / (development; shopapi/storefront.py).
    *storefront.urlpatterns(),
]

if settings.SERVE_MEDIA and settings.MEDIA_URL.startswith("/"):
    # Local media (product images) in development; production serves them from S3 or a CDN.
    urlpatterns.append(
        re_path(
            rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}
        )
    )

handler400 = "shopapi.health.bad_request"
handler404 = "shopapi.health.not_found"
handler500 = "shopapi.health.server_error"
