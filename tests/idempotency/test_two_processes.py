"""Two real server processes, one database: a key is shared by every process, and decided by PostgreSQL.

Two gunicorn servers (one worker each, so two processes that share nothing but the database) serve
the same add-to-cart. The request is sent 5 times in turn to each, then 20 times at once across
both: the line grows once, every answer is the first one replayed or a 409 while it runs, and
exactly one answer comes from a run of the view (neither replayed nor refused).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from catalog.models import Product
from checkout.models import Cart
from idempotency.models import IdempotencyKey
from tests.idempotency.conftest import KEY, database_url, items_url, quantity_in
from tests.live import LiveServer, server_env, start_gunicorn

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_servers() -> Iterator[tuple[LiveServer, LiveServer]]:
    env = server_env(database_url=database_url(), extra={"CONN_MAX_AGE": "0"})
    with contextlib.ExitStack() as stack:
        servers = []
        for _ in range(2):
            server = start_gunicorn(env=env, workers=1, threads=10)
            stack.callback(server.stop)
            servers.append(server)
        yield servers[0], servers[1]


def _sender(user: User, cart: Cart, product: Product) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"product_id": product.pk, "quantity": 1}).encode()
    headers = {
        "Authorization": f"Bearer {RefreshToken.for_user(user).access_token}",
        "Content-Type": "application/json",
        "Idempotency-Key": KEY,
    }
    return body, headers


def _post(server: LiveServer, cart: Cart, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(server.url + items_url(cart), data=body, headers=headers, timeout=30)


def _runs(answers: list[requests.Response]) -> list[requests.Response]:
    """The answers that came from a run of the view: neither a replay nor a 409 "in progress"."""
    return [a for a in answers if a.status_code != 409 and "Idempotent-Replayed" not in a.headers]


def test_five_sequential_retries_across_two_processes_add_once(
    two_servers: tuple[LiveServer, LiveServer], user: User, cart: Cart, product: Product
) -> None:
    # given
    body, headers = _sender(user, cart, product)

    # when: first one process, then the other, in turn
    answers = [_post(two_servers[i % 2], cart, body, headers) for i in range(5)]

    # then
    assert [a.status_code for a in answers] == [201] * 5
    assert {a.content for a in answers} == {answers[0].content}
    assert len(_runs(answers)) == 1
    assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None] + ["true"] * 4
    assert quantity_in(cart) == 1


def test_twenty_concurrent_retries_across_two_processes_add_once(
    two_servers: tuple[LiveServer, LiveServer], user: User, cart: Cart, product: Product
) -> None:
    # given: 20 clients released together, half on each process
    body, headers = _sender(user, cart, product)
    barrier = threading.Barrier(20)

    def send(index: int) -> requests.Response:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        return _post(two_servers[index % 2], cart, body, headers)

    # when
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))
    retry = _post(two_servers[0], cart, body, headers)

    # then: one run; every other answer is that run's answer replayed, or "still in progress"
    runs = _runs(answers)
    assert len(runs) == 1
    assert runs[0].status_code == 201
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "idempotency_key_in_progress"
            assert answer.headers["Retry-After"] == "1"
        else:
            assert (answer.status_code, answer.content) == (201, runs[0].content)
    assert quantity_in(cart) == 1
    # and a retry after it completed is the replay
    assert (retry.status_code, retry.content) == (201, runs[0].content)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().status_code == 201
