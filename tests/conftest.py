"""Shared fixtures: API clients, users, JWT-authenticated clients, PostgreSQL-only marker."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from tests.factories import UserFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, skip only the PostgreSQL-only tests, with the reason printed."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…); running on SQLite")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: SettingsWrapper) -> None:
    """Production serves hashed files from `collectstatic`; tests don't run collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Throttle counters live in the cache; every test starts with none."""
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_user(db: None) -> User:
    return UserFactory.create()


def client_for(user: User) -> APIClient:
    """An APIClient carrying a real access JWT for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def auth_client(user: User) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user: User) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
