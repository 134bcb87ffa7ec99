"""`manage.py reconcile_payments [--older-than 15m]`: settle pending orders from the provider (cron-safe).

Prints `checked N, paid N, expired N, left open N, errors N` on stdout, a progress bar on stderr
only when stderr is a terminal, and exits non-zero when any order could not be reconciled.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from checkout.services.reconcile import ProgressCallback, payments_reconcile

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str) -> timedelta:
    """`"90s"`, `"15m"`, `"2h"`, `"1d"` → timedelta; anything else → ValueError."""
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration like 30s, 15m, 2h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def progress_bar(stream: OutputWrapper, width: int = 30) -> ProgressCallback:
    """A one-line `[#####.....] 12/40` bar redrawn in place on `stream`."""

    def show(done: int, total: int) -> None:
        filled = width if total == 0 else width * done // total
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        if done >= total:
            stream.write("")
        stream.flush()

    return show


class Command(BaseCommand):
    help = (
        "Settle pending orders whose payment session is older than --older-than from what the "
        "payment provider says "
        "(paid → paid, expired → expired, open past its expiry → expire it). Safe to run concurrently."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default="15m",
            help="only orders created at least this long ago: 30s, 15m, 2h, 1d (default 15m)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            older_than = parse_duration(str(options["older_than"]))
        except ValueError as exc:
            raise CommandError(f"--older-than: {exc}") from exc
        progress = progress_bar(self.stderr) if self.stderr.isatty() else None
        summary = payments_reconcile(older_than=older_than, progress=progress)
        self.stdout.write(str(summary))
        if summary.errors:
            raise CommandError(
                f"{summary.errors} order(s) could not be reconciled; see the log. They are retried next run.",
                returncode=2,
            )
