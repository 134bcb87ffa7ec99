"""Reusable pytest machinery for running ``fakestripe`` as a real subprocess.

Import the fixtures from a conftest::

    from tests.stripe_fixtures import fakestripe, fakestripe_server, stripe_client  # noqa: F401

``fakestripe_server`` starts one process per test session, ``fakestripe`` resets its state
(objects, events, idempotency keys, faults, clock, webhook config) before each test, and
``stripe_client`` is an official ``stripe.StripeClient`` pointed at it. The process itself is
started by :mod:`devtools.fakestripe_process` (shared with bench/ and scripts/).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import requests
import stripe

from devtools.fakestripe_process import FakeStripeServer, start_fakestripe

__all__ = ["FakeStripeServer", "fakestripe", "fakestripe_server", "stripe_client"]


@pytest.fixture(scope="session")
def fakestripe_server() -> Iterator[FakeStripeServer]:
    """One fakestripe process for the whole test session."""
    server = start_fakestripe()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fakestripe(fakestripe_server: FakeStripeServer) -> Iterator[FakeStripeServer]:
    """The session's fakestripe, with all state, faults and config reset for this test."""
    fakestripe_server.reset()
    yield fakestripe_server
    with contextlib.suppress(requests.RequestException):  # leave no faults behind
        fakestripe_server.faults()


@pytest.fixture
def stripe_client(fakestripe: FakeStripeServer) -> stripe.StripeClient:
    """An official ``stripe.StripeClient`` talking to the (reset) fakestripe."""
    return fakestripe.client()
