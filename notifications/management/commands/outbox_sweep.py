"""`manage.py outbox_sweep`: enqueue outbox events, deliveries and emails that are due (cron-safe).

Beat runs the same job every OUTBOX_SWEEP_SECONDS; this is for a stack without beat, and for
`make run` (no broker: the jobs then run right here). Prints how many of each it enqueued.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications.outbox import outbox_sweep


class Command(BaseCommand):
    help = "Enqueue undispatched outbox events and due webhook deliveries and emails."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = outbox_sweep()
        self.stdout.write(", ".join(f"{name} {count}" for name, count in counts.items()))
