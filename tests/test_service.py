"""Service endpoints and the single error shape: healthz, readyz, 404, 405, schema and docs."""

from __future__ import annotations

from typing import NoReturn

import pytest
from django.db import DatabaseError
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_database(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(0):
        response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok(api_client: APIClient) -> None:
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_readyz_503_when_database_down(api_client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from shopapi import health

    def broken_cursor(*args: object, **kwargs: object) -> NoReturn:
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = api_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"


def test_readyz_503_when_cache_down(api_client: APIClient, settings: SettingsWrapper) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "shopapi.redis_cache.SharedClientRedisCache",  # as production's
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    response = api_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error"


def test_unknown_url_is_404_in_error_shape(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/nope/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_method_not_allowed_is_405_in_error_shape(auth_client: APIClient) -> None:
    response = auth_client.delete("/api/v1/auth/me/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_malformed_json_is_400_in_error_shape(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/register/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_schema_and_docs_are_public(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/schema/").status_code == 200
    docs = api_client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert api_client.get("/api/v1/redoc/").status_code == 200
