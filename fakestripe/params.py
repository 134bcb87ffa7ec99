"""Checks on decoded request parameters and Stripe's list pagination, shared by every resource."""

from __future__ import annotations

from typing import Any

from fakestripe.errors import invalid, no_such
from fakestripe.store import Obj


def check_unknown(params: Obj, allowed: frozenset[str]) -> None:
    """Reject a parameter Stripe does not know, as Stripe does."""
    for key in params:
        if key not in allowed:
            raise invalid(f"Received unknown parameter: {key}", key)


def int_param(value: Any, param: str) -> int:
    """``value`` as an integer, or 400 naming ``param``."""
    try:
        return int(str(value))
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param) from None


# Stripe's metadata limits (https://docs.stripe.com/api/metadata): 50 keys, key names up to 40
# characters, values up to 500 characters.
METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_VALUE_LENGTH = 500


def metadata(value: Any, param: str) -> dict[str, str]:
    """A ``metadata`` hash within Stripe's limits: string values only; empty values are dropped."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise invalid("Invalid metadata value: must be a string", f"{param}[{k}]")
        # Stripe's wording (stripe/stripe-php#246); the limit itself is allowed.
        if len(str(k)) > METADATA_MAX_KEY_LENGTH:
            limit = METADATA_MAX_KEY_LENGTH
            raise invalid(f"Invalid key: {k} must be a string under {limit} characters", param)
        if len(v) > METADATA_MAX_VALUE_LENGTH:
            limit = METADATA_MAX_VALUE_LENGTH
            raise invalid(f"Invalid val: {v} must be a string under {limit} characters", param)
        if v != "":
            out[str(k)] = v
    if len(out) > METADATA_MAX_KEYS:
        raise invalid(
            f"Metadata can have up to {METADATA_MAX_KEYS} keys, but you've set {len(out)}. "
            "Email us at support+metadata@stripe.com for more information.",
            param,
        )
    return out


def list_obj(url: str, items: list[Obj], params: Obj) -> Obj:
    """Paginate ``items`` (already in Stripe order) the way Stripe list endpoints do."""
    limit = int_param(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise invalid(
            "Invalid limit: must be at least 1 and at most 100",
            "limit",
        )
    start = 0
    after = params.get("starting_after")
    before = params.get("ending_before")
    ids = [it["id"] for it in items]
    if after:
        if after not in ids:
            raise no_such("object", str(after), "starting_after")
        start = ids.index(after) + 1
        page = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before:
        if before not in ids:
            raise no_such("object", str(before), "ending_before")
        end = ids.index(before)
        begin = max(0, end - limit)
        page = items[begin:end]
        has_more = begin > 0
    else:
        page = items[:limit]
        has_more = limit < len(items)
    return {"object": "list", "data": page, "has_more": has_more, "url": url}
