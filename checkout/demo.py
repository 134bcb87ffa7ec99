"""The demo shop's shipping methods for `manage.py seed_demo`, so `make run` offers them at checkout.

Two methods in the shop's default currency: Standard and Express, each added only when no method
of that name exists (staff changes are kept; a second run adds nothing).
"""

from __future__ import annotations

from catalog.models import default_currency
from checkout.models import ShippingMethod

DEMO_METHODS = [
    # name, amount (minor units), min_days, max_days, position
    ("Standard", 4_900, 3, 5, 0),
    ("Express", 14_900, 1, 2, 1),
]


def demo_shipping_ensure() -> int:
    """Add the missing demo shipping methods; return how many were added."""
    added = 0
    for name, amount, min_days, max_days, position in DEMO_METHODS:
        _, created = ShippingMethod.objects.get_or_create(
            name=name,
            defaults={
                "amount": amount,
                "currency": default_currency(),
                "min_days": min_days,
                "max_days": max_days,
                "position": position,
            },
        )
        added += created
    return added
