"""Cart services, selectors and the lock helper called directly (what checkout reuses)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from checkout.models import Cart, CartItem
from checkout.ownership import lock_owned_cart as cart_for_update
from checkout.pricing import price_cart
from checkout.selectors.carts import cart_get_for_owner, cart_list_for_owner
from checkout.services.carts import (
    cart_get_or_create_open,
    cart_item_add,
    cart_item_remove,
    cart_item_update,
)
from shopapi.exceptions import ConflictError, DomainError, NotFoundError
from tests.factories import CartFactory, CartItemFactory, ProductFactory, UserFactory


@pytest.mark.django_db
def test_cart_totals_is_pure_on_a_prefetched_cart(
    user: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    cart = CartFactory.create(user=user)
    a = ProductFactory.create(unit_amount=1_000, currency="usd")
    b = ProductFactory.create(unit_amount=250, currency="usd")
    CartItemFactory.create(cart=cart, product=a, quantity=2)
    CartItemFactory.create(cart=cart, product=b, quantity=4)
    loaded = cart_get_for_owner(cart_id=cart.id, owner=user)
    # when
    with django_assert_num_queries(0):
        totals = price_cart(loaded.items.all())
    # then
    assert (totals.total_amount, totals.currency, totals.item_count) == (3_000, "usd", 6)
    assert [(line.product_id, line.unit_amount, line.quantity, line.line_total) for line in totals.lines] == [
        (a.pk, 1_000, 2, 2_000),
        (b.pk, 250, 4, 1_000),
    ]
    assert totals.lines[0].name == a.name
    assert totals.currencies == {"usd"}


@pytest.mark.django_db
@override_settings(DEFAULT_CURRENCY="eur")
def test_cart_totals_of_an_empty_cart_uses_the_default_currency(user: User) -> None:
    # given
    cart = cart_get_for_owner(cart_id=CartFactory.create(user=user).id, owner=user)
    # when
    totals = price_cart(cart.items.all())
    # then
    assert (totals.total_amount, totals.currency, totals.item_count, totals.lines) == (0, "eur", 0, ())


@pytest.mark.django_db
def test_selectors_hide_other_users_carts(user: User, other_user: User) -> None:
    # given
    theirs = CartFactory.create(user=other_user)
    mine = CartFactory.create(user=user)
    # when / then
    assert list(cart_list_for_owner(owner=user)) == [mine]
    with pytest.raises(NotFoundError):
        cart_get_for_owner(cart_id=theirs.id, owner=user)
    with pytest.raises(NotFoundError):
        cart_get_for_owner(cart_id="not-a-uuid", owner=user)


@pytest.mark.django_db
def test_cart_for_update_returns_only_the_callers_cart(user: User, other_user: User) -> None:
    # given
    mine = CartFactory.create(user=user)
    theirs = CartFactory.create(user=other_user)
    # when / then
    with transaction.atomic():
        assert cart_for_update(cart_id=mine.id, owner=user) == mine
        with pytest.raises(NotFoundError) as missing:
            cart_for_update(cart_id=theirs.id, owner=user)
        with pytest.raises(NotFoundError):
            cart_for_update(cart_id=uuid.uuid4(), owner=user)
    assert missing.value.status_code == 404


@pytest.mark.django_db
def test_get_or_create_open_is_idempotent(user: User) -> None:
    # given
    CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    # when
    first, created_first = cart_get_or_create_open(owner=user)
    second, created_second = cart_get_or_create_open(owner=user)
    # then
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert first.status == Cart.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, -1, 100, 1.5, "2", True])
def test_services_reject_bad_quantities_without_writing(user: User, quantity: float | str) -> None:
    # given
    cart = CartFactory.create(user=user)
    product = ProductFactory.create()
    item = CartItemFactory.create(cart=cart, quantity=3)
    # when
    # (not an int on purpose: the services must refuse what a caller should never send)
    with pytest.raises(DomainError) as added:
        cart_item_add(cart_id=cart.id, owner=user, product_id=product.pk, quantity=quantity)  # type: ignore[arg-type]
    with pytest.raises(DomainError) as updated:
        cart_item_update(cart_id=cart.id, item_id=item.pk, owner=user, quantity=quantity)  # type: ignore[arg-type]
    # then
    assert added.value.field == updated.value.field == "quantity"
    assert added.value.status_code == 400
    item.refresh_from_db()
    assert item.quantity == 3
    assert CartItem.objects.filter(cart=cart).count() == 1


@pytest.mark.django_db
def test_services_on_a_checked_out_cart_raise_conflict(user: User) -> None:
    # given
    cart = CartFactory.create(user=user, status=Cart.Status.CHECKED_OUT)
    item = CartItemFactory.create(cart=cart, quantity=3)
    # when / then
    with pytest.raises(ConflictError) as add:
        cart_item_add(cart_id=cart.id, owner=user, product_id=item.product_id, quantity=1)
    with pytest.raises(ConflictError):
        cart_item_update(cart_id=cart.id, item_id=item.pk, owner=user, quantity=1)
    with pytest.raises(ConflictError):
        cart_item_remove(cart_id=cart.id, item_id=item.pk, owner=user)
    assert (add.value.code, add.value.status_code) == ("cart_checked_out", 409)
    item.refresh_from_db()
    assert item.quantity == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_cart_for_update_outside_a_transaction_is_refused(user: User) -> None:
    # given
    cart = CartFactory.create(user=user)
    # when / then
    with pytest.raises(transaction.TransactionManagementError):
        cart_for_update(cart_id=cart.id, owner=user)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_held_cart_lock_makes_cart_writes_wait() -> None:
    # given: checkout (simulated) holds the cart lock
    user = UserFactory.create()
    cart = CartFactory.create(user=user)
    product = ProductFactory.create()
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                cart_for_update(cart_id=cart.id, owner=user)
                locked.set()
                release.wait(timeout=10)
                Cart.objects.filter(pk=cart.pk).update(status=Cart.Status.CHECKED_OUT)
        finally:
            connection.close()

    def add() -> None:
        try:
            cart_item_add(cart_id=cart.id, owner=user, product_id=product.pk, quantity=1)
            outcome["result"] = "added"
        except ConflictError as exc:
            outcome["result"] = exc.code
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(timeout=10)
    writer = threading.Thread(target=add)
    # when
    writer.start()
    time.sleep(0.5)
    # then: the add waits for the lock, then sees the checked-out cart
    assert writer.is_alive()
    assert "result" not in outcome
    release.set()
    holder.join(timeout=10)
    writer.join(timeout=10)
    assert outcome["result"] == "cart_checked_out"
    assert not CartItem.objects.filter(cart=cart).exists()
