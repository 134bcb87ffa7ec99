"""Carts under real concurrency (PostgreSQL, real threads): nothing lost, nothing duplicated, no 500s.

Each thread has its own API client and database connection (closed in `finally`); a barrier
releases them together so their requests overlap.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from checkout.models import Cart, CartItem
from checkout.services.carts import cart_get_or_create_open
from tests.conftest import client_for
from tests.factories import CartFactory, CartItemFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 10


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released at once; return results (or raised exceptions)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which asserts on it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_concurrent_create_yields_one_open_cart() -> None:
    # given
    user = UserFactory.create()
    clients = [client_for(user) for _ in range(THREADS)]
    # when
    responses = run_together(THREADS, lambda i: clients[i].post("/api/v1/carts/"))
    # then
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 200: THREADS - 1}, [getattr(r, "content", r) for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Cart.objects.filter(user=user).count() == 1


def test_create_losing_the_insert_race_returns_the_winner() -> None:
    # given: another transaction has inserted the user's open cart but not committed yet
    user = UserFactory.create()
    inserted, release = threading.Event(), threading.Event()
    winner: dict[str, Any] = {}

    def hold_insert() -> None:
        try:
            with transaction.atomic():
                winner["cart"] = Cart.objects.create(user=user)
                inserted.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_insert)
    holder.start()
    assert inserted.wait(timeout=10)
    outcome: dict[str, Any] = {}

    def loser() -> None:
        try:
            outcome["result"] = cart_get_or_create_open(owner=user)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["result"] = exc
        finally:
            connection.close()

    racer = threading.Thread(target=loser)
    racer.start()
    racer.join(timeout=0.5)
    assert racer.is_alive()  # blocked on the unique index, behind the uncommitted insert
    # when
    release.set()
    holder.join(timeout=10)
    racer.join(timeout=10)
    # then
    cart, created = outcome["result"]
    assert (cart.pk, created) == (winner["cart"].pk, False)
    assert Cart.objects.filter(user=user).count() == 1


def test_concurrent_adds_to_an_existing_line_all_count() -> None:
    # given
    user = UserFactory.create()
    cart = CartFactory.create(user=user)
    product = ProductFactory.create()
    CartItemFactory.create(cart=cart, product=product, quantity=1)
    clients = [client_for(user) for _ in range(THREADS)]
    url = f"/api/v1/carts/{cart.id}/items/"
    # when
    responses = run_together(
        THREADS, lambda i: clients[i].post(url, {"product_id": product.pk, "quantity": 1})
    )
    # then
    assert [r.status_code for r in responses] == [201] * THREADS
    assert CartItem.objects.get(cart=cart, product=product).quantity == 1 + THREADS


def test_concurrent_adds_of_a_new_product_make_one_summed_line() -> None:
    # given
    user = UserFactory.create()
    cart = CartFactory.create(user=user)
    product = ProductFactory.create()
    clients = [client_for(user) for _ in range(THREADS)]
    url = f"/api/v1/carts/{cart.id}/items/"
    # when
    responses = run_together(
        THREADS, lambda i: clients[i].post(url, {"product_id": product.pk, "quantity": i + 1})
    )
    # then
    assert [r.status_code for r in responses] == [201] * THREADS
    lines = list(CartItem.objects.filter(cart=cart))
    assert len(lines) == 1
    assert lines[0].quantity == sum(range(1, THREADS + 1))


def test_concurrent_adds_near_the_line_maximum_never_overshoot() -> None:
    # given
    user = UserFactory.create()
    cart = CartFactory.create(user=user)
    product = ProductFactory.create()
    CartItemFactory.create(cart=cart, product=product, quantity=95)
    clients = [client_for(user) for _ in range(THREADS)]
    url = f"/api/v1/carts/{cart.id}/items/"
    # when
    responses = run_together(
        THREADS, lambda i: clients[i].post(url, {"product_id": product.pk, "quantity": 1})
    )
    # then
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 4, 400: THREADS - 4}
    assert all(r.json()["fields"].keys() == {"quantity"} for r in responses if r.status_code == 400)
    assert CartItem.objects.get(cart=cart, product=product).quantity == 99


def test_concurrent_add_update_and_remove_serialise_on_the_cart() -> None:
    # given
    user = UserFactory.create()
    cart = CartFactory.create(user=user)
    product = ProductFactory.create()
    item = CartItemFactory.create(cart=cart, product=product, quantity=5)
    others = [CartItemFactory.create(cart=cart, quantity=1) for _ in range(3)]
    clients = [client_for(user) for _ in range(8)]
    base = f"/api/v1/carts/{cart.id}/items/"

    def work(i: int) -> Any:
        if i < 4:
            return clients[i].post(base, {"product_id": product.pk, "quantity": 1})
        if i < 7:
            return clients[i].delete(f"{base}{others[i - 4].pk}/")
        return clients[i].patch(f"{base}{item.pk}/", {"quantity": 50})

    # when
    responses = run_together(8, work)
    # then
    assert all(not isinstance(r, Exception) and r.status_code < 500 for r in responses)
    assert [r.status_code for r in responses[4:7]] == [204] * 3
    assert responses[7].status_code == 200
    remaining = list(CartItem.objects.filter(cart=cart))
    assert [line.pk for line in remaining] == [item.pk]
    # The PATCH set 50 at some point: adds before it were overwritten, each add after it counts.
    adds_after_patch = sum(1 for r in responses[:4] if r.status_code == 201 and r.json()["quantity"] > 50)
    assert remaining[0].quantity == 50 + adds_after_patch
