"""The adversarial pass (tests/adversarial.py) from the suite: two gunicorn instances on the test database.

Every case must print PASS; the lines are shown on failure. The servers, their Redis and
fakestripe are started and stopped by `tests.adversarial.live_stack`.
"""

from __future__ import annotations

import pytest

from tests.adversarial import CASES, live_stack, run_cases
from tests.e2e.test_generated_client import _database_url
from tests.factories import ProductFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def test_every_adversarial_case_passes_against_two_instances() -> None:
    # given: something to put in a cart, committed where the servers can read it
    ProductFactory.create(unit_amount=149_900)
    lines: list[str] = []
    # when
    with live_stack(_database_url()) as target:
        outcomes = run_cases(target, out=lines.append)
    # then
    assert len(outcomes) == len(CASES), "\n".join(lines)
    assert all(outcome.passed for outcome in outcomes), "\n".join(lines)
