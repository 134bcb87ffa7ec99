"""Development defaults (shopapi/settings_dev.py): what `make run` (DEBUG) gets, and what it does not
change with DEBUG off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_NAMES = (
    "ALLOWED_HOSTS",
    "CORS_ALLOWED_ORIGINS",
    "CHECKOUT_SUCCESS_URL",
    "CHECKOUT_CANCEL_URL",
    "PASSWORD_RESET_URL",
    "EMAIL_VERIFICATION_URL",
    "SERVE_STOREFRONT",
)
_PRINT = (
    "import json, django; from django.conf import settings; django.setup(); "
    f"print(json.dumps({{name: getattr(settings, name) for name in {_NAMES!r}}}))"
)


def settings_with(**env: str) -> dict[str, object]:
    """The settings a fresh process computes from exactly this environment (no `.env` in the way)."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_"))
        and key
        not in (
            *_NAMES,
            "DEBUG",
            "STOREFRONT_URL",
            "DEV_PUBLIC_HOSTS",
        )
    }
    base.update(DJANGO_SETTINGS_MODULE="shopapi.settings", SECRET_KEY="x" * 50, **env)
    result = subprocess.run(
        [sys.executable, "-c", _PRINT],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_debug_allows_the_usual_local_dev_origins() -> None:
    # given / when
    settings = settings_with(DEBUG="1")

    # then
    origins = settings["CORS_ALLOWED_ORIGINS"]
    assert isinstance(origins, list)
    for host in ("localhost", "127.0.0.1"):
        for port in (3000, 5173, 8080):
            assert f"http://{host}:{port}" in origins
    assert settings["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert settings["SERVE_STOREFRONT"] is True


def test_lan_hosts_are_allowed_hosts_and_origins() -> None:
    # given: what `make run HOST=0.0.0.0` exports
    settings = settings_with(DEBUG="1", DEV_PUBLIC_HOSTS="192.168.1.20,10.0.2.2")

    # then
    hosts = settings["ALLOWED_HOSTS"]
    assert isinstance(hosts, list)
    assert "192.168.1.20" in hosts
    assert "10.0.2.2" in hosts
    origins = settings["CORS_ALLOWED_ORIGINS"]
    assert isinstance(origins, list)
    assert "http://10.0.2.2:5173" in origins
    assert "http://192.168.1.20:3000" in origins


def test_storefront_url_sets_the_page_defaults() -> None:
    # given
    settings = settings_with(DEBUG="1", STOREFRONT_URL="http://192.168.1.20:8000/")

    # then
    assert settings["CHECKOUT_SUCCESS_URL"] == (
        "http://192.168.1.20:8000/checkout/success?session_id={CHECKOUT_SESSION_ID}"
    )
    assert settings["CHECKOUT_CANCEL_URL"] == "http://192.168.1.20:8000/cart?cancelled=1"
    assert settings["PASSWORD_RESET_URL"] == "http://192.168.1.20:8000/reset-password"
    assert settings["EMAIL_VERIFICATION_URL"] == "http://192.168.1.20:8000/verify-email"


def test_explicit_values_win_over_the_development_defaults() -> None:
    # given
    settings = settings_with(
        DEBUG="1",
        STOREFRONT_URL="http://127.0.0.1:8000",
        CHECKOUT_CANCEL_URL="https://shop.example.com/cart",
        CORS_ALLOWED_ORIGINS="https://shop.example.com",
        ALLOWED_HOSTS="api.example.com",
    )

    # then
    assert settings["CHECKOUT_CANCEL_URL"] == "https://shop.example.com/cart"
    assert settings["CORS_ALLOWED_ORIGINS"] == ["https://shop.example.com"]
    assert settings["ALLOWED_HOSTS"] == ["api.example.com"]


def test_debug_off_keeps_the_production_defaults() -> None:
    # given
    settings = settings_with(DEBUG="0", STOREFRONT_URL="http://127.0.0.1:8000", DEV_PUBLIC_HOSTS="10.0.2.2")

    # then
    assert settings["CORS_ALLOWED_ORIGINS"] == []
    assert "10.0.2.2" not in settings["ALLOWED_HOSTS"]  # type: ignore[operator]
    assert settings["CHECKOUT_CANCEL_URL"] == "http://localhost:3000/cart"
    assert settings["SERVE_STOREFRONT"] is False
