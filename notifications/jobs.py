"""Enqueueing jobs: after the commit, never failing the request that asked.

`enqueue_on_commit` publishes a job once the current transaction commits (at once outside one).
When the broker cannot take it (Redis down), the error is logged and the request still succeeds:
the row the job is about is already committed, and the outbox sweep enqueues it again later.
In eager mode (no REDIS_URL) the job runs right there, in the web process, after the commit.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import KombuError, OperationalError

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any, countdown: float | None = None) -> bool:
    """Publish `task(*args)` now; False (logged) when the broker could not take it."""
    try:
        if countdown and not settings.CELERY_TASK_ALWAYS_EAGER:
            task.apply_async(args=args, countdown=countdown)
        else:
            task.apply_async(args=args)
    except (OperationalError, KombuError, OSError) as exc:
        logger.warning("job %s%r not enqueued (%s); the outbox sweep will enqueue it", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Publish `task(*args)` once the current transaction commits."""
    transaction.on_commit(lambda: enqueue(task, *args), robust=True)


def retry_later(task: Task, *args: Any, countdown: float) -> None:
    """Schedule a retry of `task(*args)` in `countdown` seconds after the commit.

    In eager mode there is no scheduler: a retry would run at once, in a loop, inside the request.
    The row stays pending with its `next_attempt_at`, and `manage.py outbox_sweep` (or beat, with
    a worker) sends it when due.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown), robust=True)
