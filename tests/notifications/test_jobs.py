"""Enqueueing after the commit, off the request's thread: the request never waits on the broker."""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from pytest_django.fixtures import SettingsWrapper

from notifications import jobs, tasks

pytestmark = pytest.mark.django_db(transaction=True)


class SlowBroker:
    """Stands in for `jobs.enqueue`: records each publish, and takes `delay` seconds over it."""

    def __init__(self, delay: float = 0.0, fail_first: bool = False) -> None:
        self.delay = delay
        self.fail_first = fail_first
        self.published: list[tuple[str, tuple[Any, ...], Any]] = []
        self.threads: set[str] = set()
        self.done = threading.Event()

    def __call__(self, task: Any, *args: Any, countdown: float | None = None) -> bool:
        time.sleep(self.delay)
        self.threads.add(threading.current_thread().name)
        if self.fail_first:
            self.fail_first = False
            raise RuntimeError("a publish that blew up")
        self.published.append((task.name, args, countdown))
        self.done.set()
        return True


def test_the_commit_hands_the_job_over_and_returns_at_once(settings: SettingsWrapper) -> None:
    # given: a broker that takes 1 s to accept a job
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = SlowBroker(delay=1.0)

    # when
    with mock.patch.object(jobs, "enqueue", broker):
        started = time.perf_counter()
        with transaction.atomic():
            jobs.enqueue_on_commit(tasks.outbox_dispatch, 42)
            assert broker.published == []  # nothing before the commit
        committed_in = time.perf_counter() - started

        # then: the commit did not wait for the broker; the publisher thread published it
        assert committed_in < 0.5
        assert broker.done.wait(10)
    assert broker.published == [("notifications.outbox_dispatch", (42,), None)]
    assert broker.threads == {"job-publisher"}


def test_a_retry_is_published_with_its_countdown(settings: SettingsWrapper) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = SlowBroker()
    with mock.patch.object(jobs, "enqueue", broker):
        with transaction.atomic():
            jobs.retry_later(tasks.webhook_deliver, 7, countdown=30.0)
        assert broker.done.wait(10)
    assert broker.published == [("notifications.webhook_deliver", (7,), 30.0)]


def test_the_publisher_survives_a_job_it_could_not_publish(settings: SettingsWrapper) -> None:
    # given: the first publish raises something unexpected
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = SlowBroker(fail_first=True)

    # when
    with mock.patch.object(jobs, "enqueue", broker):
        jobs.enqueue_on_commit(tasks.email_send, 1)
        jobs.enqueue_on_commit(tasks.email_send, 2)
        assert broker.done.wait(10)

    # then: the second still went out
    assert broker.published == [("notifications.email_send", (2,), None)]


def test_in_eager_mode_the_job_runs_on_the_committing_thread(settings: SettingsWrapper) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    broker = SlowBroker()
    with mock.patch.object(jobs, "enqueue", broker), transaction.atomic():
        jobs.enqueue_on_commit(tasks.outbox_dispatch, 3)
    assert broker.published == [("notifications.outbox_dispatch", (3,), None)]
    assert broker.threads == {threading.current_thread().name}
