"""One reset link used by several requests at once (PostgreSQL, real threads): exactly one wins.

Each thread has its own API client and database connection (closed in `finally`); a barrier
releases them together so the token checks overlap.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from tests.accounts.conftest import PASSWORD_RESET_CONFIRM
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_a_link_used_eight_times_at_once_sets_one_password() -> None:
    # given
    user = UserFactory.create()
    link = {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def use(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = APIClient().post(
                PASSWORD_RESET_CONFIRM, {**link, "new_password": f"concurrent-passphrase-{index}"}
            )
        except Exception as exc:  # noqa: BLE001 - reported to the test, which asserts on it
            results[index] = exc
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=use, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: one 204, every other use refused as a used link; the winner's password is the one set
    assert Counter(getattr(r, "status_code", r) for r in results) == {204: 1, 400: THREADS - 1}, results
    assert {r.json()["code"] for r in results if r.status_code == 400} == {"password_reset_invalid"}
    winner = next(i for i, r in enumerate(results) if r.status_code == 204)
    user.refresh_from_db()
    assert user.check_password(f"concurrent-passphrase-{winner}")
