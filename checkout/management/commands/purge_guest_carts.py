"""`manage.py purge_guest_carts`: delete abandoned guest carts (no orders, untouched GUEST_CART_TTL_DAYS).

Cron-safe and idempotent (`checkout.services.carts.guest_carts_purge`); prints how many it deleted.
A guest cart that led to an order is kept (orders keep their cart), as is every user's cart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from checkout.services.carts import guest_carts_purge


class Command(BaseCommand):
    help = "Delete guest carts without orders untouched for GUEST_CART_TTL_DAYS days."

    def handle(self, *args: Any, **options: Any) -> None:
        days = int(settings.GUEST_CART_TTL_DAYS)
        if days < 1:
            raise CommandError("GUEST_CART_TTL_DAYS must be at least 1.")
        deleted = guest_carts_purge(older_than=timedelta(days=days))
        self.stdout.write(f"purged {deleted} guest cart(s) without orders untouched for {days} day(s)")
