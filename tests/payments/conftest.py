"""Payments test fixtures: the in-memory provider configured as the payment gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import SettingsWrapper

from tests.payments.memory_gateway import PATH, MemoryGateway


@pytest.fixture
def memory_gateway(settings: SettingsWrapper) -> Iterator[type[MemoryGateway]]:
    """`PAYMENT_GATEWAY` is the in-memory provider (empty) for the test."""
    MemoryGateway.reset()
    settings.PAYMENT_GATEWAY = PATH
    yield MemoryGateway
    MemoryGateway.reset()
