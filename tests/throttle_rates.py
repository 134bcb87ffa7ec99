"""Test helper: change some throttle rates for one test (the throttles read them per request)."""

from __future__ import annotations

from pytest_django.fixtures import SettingsWrapper


def set_throttle_rates(settings: SettingsWrapper, **rates: str) -> None:
    """Override the given scopes' rates in `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }
