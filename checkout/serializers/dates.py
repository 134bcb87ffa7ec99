"""Datetimes as the API renders them, without DRF's per-value timezone lookup (UTC, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    """What DRF's `DateTimeField` renders with `TIME_ZONE = "UTC"`: ISO 8601, `Z` for UTC."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso_utc(value)
