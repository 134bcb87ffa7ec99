"""Row locks for checkout: the one place that takes them, so the order stays fixed.

Lock order across the project: the cart, then its orders, then product variants by pk (stock).
A flow that needs two carts (claiming a guest cart into the user's cart, services/claims.py)
locks both in ONE statement, in cart-id order (`lock_carts`), before anything else; every other
flow holds one cart at most, so no two flows can wait on each other's carts in opposite orders.
Every cart write (add, update, remove a line), the checkout, cancel, settlement of a paid
session and reconciliation take the cart lock first, so they serialise per cart and cannot
deadlock with each other. Variants are locked in one call per transaction where several are
needed (checkout locks every variant of the cart and of its pending orders at once), so no flow
holds a higher id while waiting for a lower one. These helpers lock rows and nothing else: whose row it is, is
`checkout/ownership.py`'s question (pass its queryset as `within`).

An unevaluated `select_for_update()` queryset locks nothing: these helpers evaluate it. They
must run inside `transaction.atomic` (Django raises TransactionManagementError otherwise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model, QuerySet
from django.db.transaction import TransactionManagementError

from catalog.models import ProductVariant
from checkout.models import Cart, Order

_M = TypeVar("_M", bound=Model)


def _lock_one(queryset: QuerySet[_M], pk: Any, *, skip_locked: bool) -> _M | None:
    try:
        return queryset.select_for_update(of=("self",), skip_locked=skip_locked).filter(pk=pk).first()
    except (ValidationError, ValueError):  # not a valid primary key: no such row
        return None


def lock_cart(
    cart_id: UUID | str, *, within: QuerySet[Cart] | None = None, skip_locked: bool = False
) -> Cart | None:
    """Lock the cart row (`SELECT ... FOR UPDATE OF` the cart only) and return it, or None.

    `within` narrows the rows it may be (e.g. the caller's carts); `skip_locked` returns None
    instead of waiting when another transaction holds the row.
    """
    return _lock_one(within if within is not None else Cart.objects.all(), cart_id, skip_locked=skip_locked)


def lock_carts(cart_ids: Iterable[UUID | str], *, within: QuerySet[Cart] | None = None) -> dict[UUID, Cart]:
    """Lock several cart rows in one statement, in id order, and return those found, by id.

    `within` narrows the rows they may be (a row outside it, e.g. a guest cart merged while this
    waited for its lock, is left out after the wait: PostgreSQL re-checks the condition).
    """
    queryset = within if within is not None else Cart.objects.all()
    ids = sorted({UUID(str(cart_id)) for cart_id in cart_ids})
    locked = queryset.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {cart.pk: cart for cart in locked}


def lock_order(
    order_id: UUID | str, *, within: QuerySet[Order] | None = None, skip_locked: bool = False
) -> Order | None:
    """Lock the order row and return it, or None. Take its cart's lock first (see above)."""
    return _lock_one(within if within is not None else Order.objects.all(), order_id, skip_locked=skip_locked)


def lock_cart_of_order(order_id: UUID | str) -> Order | None:
    """Lock the order's cart and return the order in one statement, or None.

    The order row is read, not locked (the cart's lock comes first; change the order with a
    conditional update). Its fields are as they were when the statement started, before any wait
    for the cart. Every paid webhook runs this: its SQL and its columns' converters are worked out
    once per process (`_cart_of_order`) instead of by the ORM on each call, which cost more CPU
    than the statement's round trip.
    """
    if connection.get_autocommit():  # the lock would end with the statement (the ORM's rule too)
        raise TransactionManagementError("lock_cart_of_order must run inside transaction.atomic")
    try:
        pk = order_id if isinstance(order_id, UUID) else UUID(str(order_id))
    except ValueError:  # not a primary key: no such row
        return None
    sql, attnames, converters = _cart_of_order(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [Order._meta.pk.get_db_prep_value(pk, connection)])  # UUID, or SQLite's hex
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index], None, connection)
    return Order.from_db(connection.alias, attnames, values)


_Converter = Callable[[Any, Any, Any], Any]


@functools.cache
def _cart_of_order(vendor: str) -> tuple[str, list[str], list[tuple[int, _Converter]]]:
    """`SELECT` the order's columns `… FOR UPDATE OF` its cart (no lock where the database has none:
    SQLite), the columns' attribute names, and the converters the ORM would apply to them; once
    per database vendor (`vendor` is the cache key: all of it follows from the connection's)."""
    quote = connection.ops.quote_name
    fields = Order._meta.concrete_fields
    columns = ", ".join(f"o.{quote(field.column)}" for field in fields)
    order, cart = quote(Order._meta.db_table), quote(Cart._meta.db_table)
    sql = f"SELECT {columns} FROM {order} o INNER JOIN {cart} c ON c.id = o.cart_id WHERE o.id = %s"  # noqa: S608 - model columns
    converters = [
        (index, convert)
        for index, field in enumerate(fields)
        for convert in connection.ops.get_db_converters(field.get_col(Order._meta.db_table))
        + field.get_db_converters(connection)  # type: ignore[attr-defined]  # on every Field
    ]
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"
    return sql, [field.attname for field in fields], converters


def lock_orders(orders: QuerySet[Order], *, skip_locked: bool = False) -> list[Order]:
    """Lock every order row of `orders`, in primary-key order, and return them."""
    return list(orders.select_for_update(of=("self",), skip_locked=skip_locked).order_by("pk"))


def lock_variants(variant_ids: Iterable[int]) -> list[ProductVariant]:
    """Lock the variant rows (stock) in primary-key order and return them, products joined.

    Take the cart's and its orders' locks first. Within a transaction, lock every variant the
    flow needs in one call: locking more later, with a lower id, could deadlock.
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return []
    return list(
        ProductVariant.objects.select_related("product")
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    )
