"""`manage.py purge_idempotency_keys`: delete the idempotency keys older than IDEMPOTENCY_TTL_HOURS.

Cron-safe and safe to run while serving (an expired key is ignored by the middleware anyway; this
only reclaims the space). Prints how many rows it deleted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from idempotency.services import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete idempotency keys (and their stored answers) older than IDEMPOTENCY_TTL_HOURS."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_keys_purge()
        self.stdout.write(
            f"purged {deleted} idempotency key(s) older than {settings.IDEMPOTENCY_TTL_HOURS} h"
        )
