"""Cart reads scoped to their owner (checkout/ownership.py: a user, a guest cart token, or both).

Every cart leaving `cart_get_for_owner`/`cart_list_for_owner` has its lines, their products and
the products' categories prefetched (two queries for one cart or a whole list), so serializing
and pricing it (checkout/pricing.py) costs no further queries. The cart answers read carts as
plain rows instead (`cart_rows_*`: the carts, their lines and the lines' variants in ONE query,
no model instance per line nor the ORM's per-row work; the products come from the catalog's
cache, checkout/serializers/cart_json.py). Anyone else's cart is indistinguishable from a missing
one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import ProductVariant
from checkout.models import Cart, CartItem
from checkout.ownership import OwnerLike, cart_not_found, carts_of
from shopapi.db import prepared_statements


def _items_prefetch() -> Prefetch:
    return Prefetch(
        "items",
        queryset=CartItem.objects.select_related("product__category", "variant").order_by("created_at", "id"),
    )


def cart_list_for_owner(*, owner: OwnerLike) -> QuerySet[Cart]:
    """The owner's carts, newest first, with lines, products and categories prefetched."""
    return carts_of(owner).prefetch_related(_items_prefetch()).order_by("-created_at")


def cart_get_for_owner(*, cart_id: UUID | str, owner: OwnerLike) -> Cart:
    """The owner's cart with lines, products and categories prefetched; `NotFoundError` otherwise."""
    try:
        return cart_list_for_owner(owner=owner).get(pk=cart_id)
    except (Cart.DoesNotExist, ValidationError, ValueError) as exc:
        raise cart_not_found() from exc


class LineRow(NamedTuple):
    """A cart line with its variant's current columns (`unit_amount` is read on every read)."""

    id: int
    product_id: int
    quantity: int
    variant_id: int
    sku: str
    title: str
    options: dict[str, Any]
    unit_amount: int
    currency: str


@dataclass
class CartRows:
    """A cart's own columns and its lines in display order (oldest first)."""

    id: UUID
    status: str
    created_at: datetime
    updated_at: datetime
    lines: list[LineRow] = field(default_factory=list)


def _rows_sql(owned: str) -> str:
    q = connection.ops.quote_name
    item, variant = CartItem._meta.db_table, ProductVariant._meta.db_table
    # The carts (once each, newest first), then their lines (oldest first) with their variants:
    # a cart's columns are not repeated on every line. `owned` is the owner's carts, compiled by
    # the ORM from `carts_of` (the ownership rules stay in checkout/ownership.py); table names
    # come from the models' metadata and every value is a parameter.
    return (
        f"WITH owned AS ({owned})"  # noqa: S608
        f" SELECT 0, c.id, ROW_NUMBER() OVER (ORDER BY c.created_at DESC, c.id), c.status, c.created_at,"
        f" c.updated_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM owned c"
        f" UNION ALL SELECT 1, i.cart_id, ROW_NUMBER() OVER (ORDER BY i.created_at, i.id), NULL, NULL,"
        f" NULL, i.id, i.product_id, i.quantity, v.id, v.sku, v.title, CAST(v.options AS TEXT),"
        f" v.unit_amount, v.currency FROM {q(item)} i JOIN {q(variant)} v ON v.id = i.variant_id"
        f" WHERE i.cart_id IN (SELECT id FROM owned) ORDER BY 1, 3"
    )


def _datetime(value: datetime | str) -> datetime:
    """A raw timestamp column: PostgreSQL gives a datetime, SQLite the UTC text it stores."""
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value)
    if parsed is None:
        raise TypeError(f"not a timestamp: {value!r}")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _cart_rows(carts: QuerySet[Cart]) -> list[CartRows]:
    try:
        owned, params = (
            carts.order_by().values("id", "status", "created_at", "updated_at").query.sql_with_params()
        )
    except EmptyResultSet:  # no credentials: no carts
        return []
    found: dict[Any, CartRows] = {}
    # One owner's carts and their lines: the same plan whatever the ids, so prepared once.
    with prepared_statements(), connection.cursor() as cursor:
        cursor.execute(_rows_sql(owned), params)
        rows = cursor.fetchall()
    to_uuid = Cart._meta.pk.to_python
    for kind, cart_id, _position, status, created_at, updated_at, *line in rows:
        if kind == 0:
            found[cart_id] = CartRows(to_uuid(cart_id), status, _datetime(created_at), _datetime(updated_at))
        else:
            pk, product_id, quantity, variant_id, sku, title, options, unit_amount, currency = line
            found[cart_id].lines.append(
                LineRow(
                    pk,
                    product_id,
                    quantity,
                    variant_id,
                    sku,
                    title,
                    json.loads(options) if options else {},
                    unit_amount,
                    currency,
                )
            )
    return list(found.values())


def cart_rows_list_for_owner(*, owner: OwnerLike) -> list[CartRows]:
    """The owner's carts as rows, newest first, with their lines: one query."""
    return _cart_rows(carts_of(owner))


def cart_rows_get_for_owner(*, cart_id: UUID | str, owner: OwnerLike) -> CartRows:
    """The owner's cart as rows with its lines (one query); `NotFoundError` otherwise."""
    try:
        owned = carts_of(owner).filter(pk=cart_id)
    except (ValidationError, ValueError) as exc:  # not a UUID
        raise cart_not_found() from exc
    carts = _cart_rows(owned)
    if not carts:
        raise cart_not_found()
    return carts[0]
