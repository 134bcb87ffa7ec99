"""Enqueueing jobs: after the commit, off the request's clock, never failing the request that asked.

`enqueue_on_commit` hands the job to this process's publisher thread once the current transaction
commits (at once outside one); the thread publishes it to the broker. The request pays a queue
put, not a round trip to Redis: a paid transition costs its outbox insert and nothing more. What
the thread has not published when the process dies is not lost: the row it is about is committed,
and the outbox sweep enqueues it again. When the broker cannot take a job (Redis down), the error
is logged and the sweep enqueues it later, too.

In eager mode (no REDIS_URL) there is no broker: the job runs right after the commit, in the web
process, on the request's thread (so tests see its effects when the commit returns).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import KombuError, OperationalError

logger = logging.getLogger(__name__)

_Job = tuple[Task, tuple[Any, ...], float | None]
_handoff: queue.SimpleQueue[_Job] | None = None
_handoff_pid = 0
_handoff_lock = threading.Lock()


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


def _publish_forever(jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        task, args, countdown = jobs.get()
        try:
            enqueue(task, *args, countdown=countdown)
        # The one broad catch: this thread must outlive any job it could not publish (logged; the
        # row is committed and the sweep publishes it again).
        except Exception:
            logger.exception("job %s%r not enqueued; the outbox sweep will enqueue it", task.name, args)


def _publisher() -> queue.SimpleQueue[_Job]:
    """This process's publisher queue, its thread started on first use (and again after a fork:
    gunicorn and Celery workers fork after import)."""
    global _handoff, _handoff_pid
    pid = os.getpid()
    if _handoff is None or _handoff_pid != pid:
        with _handoff_lock:
            if _handoff is None or _handoff_pid != pid:
                jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
                threading.Thread(
                    target=_publish_forever, args=(jobs,), name="job-publisher", daemon=True
                ).start()
                _handoff, _handoff_pid = jobs, pid
    return _handoff


def _later(task: Task, args: tuple[Any, ...], countdown: float | None = None) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue(task, *args, countdown=countdown)
    else:
        _publisher().put((task, args, countdown))


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Publish `task(*args)` once the current transaction commits."""
    transaction.on_commit(lambda: _later(task, args), robust=True)


def retry_later(task: Task, *args: Any, countdown: float) -> None:
    """Schedule a retry of `task(*args)` in `countdown` seconds after the commit.

    In eager mode there is no scheduler: a retry would run at once, in a loop, inside the request.
    The row stays pending with its `next_attempt_at`, and `manage.py outbox_sweep` (or beat, with
    a worker) sends it when due.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    transaction.on_commit(lambda: _later(task, args, countdown), robust=True)
