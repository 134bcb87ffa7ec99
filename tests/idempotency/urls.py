"""A URLconf with one endpoint the idempotency middleware has never heard of, plus the real API."""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shopapi.urls import handler400, handler404, handler500
from shopapi.urls import urlpatterns as api_urlpatterns

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]


class ClaimView(APIView):
    """Stands for an endpoint added after the middleware (a guest cart claim): counts its runs."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    runs = 0

    def post(self, request: Request) -> Response:
        ClaimView.runs += 1
        return Response({"claimed": ClaimView.runs}, status=201, headers={"Location": "/api/v1/carts/x/"})


urlpatterns = [path("api/v1/carts/claim/", ClaimView.as_view()), *api_urlpatterns]
