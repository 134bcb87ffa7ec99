"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging
import sys

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from shopapi.errors import ErrorCode
from shopapi.exceptions import database_unavailable, error_body, outage_body_and_headers

logger = logging.getLogger(__name__)

_status_serializer = inline_serializer(
    name="HealthStatus",
    fields={
        "status": serializers.CharField(),
        "checks": serializers.DictField(child=serializers.CharField(), required=False),
    },
)


@extend_schema(tags=["service"], operation_id="healthz", responses={200: _status_serializer})
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def healthz(request: Request) -> Response:
    """The process is alive; touches neither the database nor the cache."""
    return Response({"status": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database unreachable: %s", exc)
        return "error"
    return "ok"


def _check_cache() -> str:
    try:
        cache.set("readyz", "1", timeout=5)
        ok = cache.get("readyz") == "1"
    except Exception as exc:  # noqa: BLE001 - any backend failure means not ready
        logger.warning("readiness: cache unreachable: %s", exc)
        return "error"
    return "ok" if ok else "error"


@extend_schema(
    tags=["service"],
    operation_id="readyz",
    responses={
        200: _status_serializer,
        503: OpenApiResponse(_status_serializer, description="Database or cache unreachable."),
    },
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def readyz(request: Request) -> Response:
    """Ready to serve: the database and the cache both answer."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    ready = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler400: Django's own refusals (too many fields, a malformed request) in the error shape."""
    return JsonResponse(error_body(ErrorCode.INVALID, "The request could not be processed."), status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """handler500: Django calls it inside its `except`, so the exception is `sys.exc_info()`'s."""
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        body, headers = outage_body_and_headers(exc)
        return JsonResponse(body, status=503, headers=headers)
    return JsonResponse(error_body(ErrorCode.SERVER_ERROR, "An unexpected error occurred."), status=500)
