"""A product's variants, options and images: loading them for a page in one query, and the
product's price that follows its variants.

`product_children_attach` reads the active variants (with what live reservations hold), the
options and the images of a whole page of products in ONE query (a `UNION ALL` of the three
tables), so a product list costs two queries whatever the number of variants and images: the
products, then this. Prefetching the three relations would be three more. The rows are plain
tuples: no model instance is built per variant or image.

`product_sync` keeps each product's `unit_amount` and `currency` equal to its lowest active
variant's (ties: the first by position), so the list's price filters and ordering stay one
indexed query. Every write path that changes variants calls it (the admin, seeding, imports);
it reports the change to the catalog read cache (`catalog.cache.catalog_changed`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.cache import catalog_changed
from catalog.models import Product, ProductImage, ProductOption, ProductVariant, StockReservation
from catalog.stock import available_quantity
from shopapi.db import prepared_statements


def display_title(title: str, options: dict[str, Any] | None) -> str:
    """The title buyers see (as `ProductVariant.display_title`): the given one, else the option
    values, else "Default"."""
    if title:
        return title
    return " / ".join(str(value) for value in (options or {}).values()) or "Default"


@dataclass(frozen=True)
class VariantRow:
    id: int
    sku: str
    title: str
    options: dict[str, Any]
    unit_amount: int
    currency: str
    stock_on_hand: int | None
    held: int

    @property
    def available_quantity(self) -> int | None:
        return available_quantity(self.stock_on_hand, self.held)

    @property
    def in_stock(self) -> bool:
        left = self.available_quantity
        return left is None or left > 0

    @property
    def display_title(self) -> str:
        return display_title(self.title, self.options)


@dataclass
class ProductChildren:
    """What `product_children_attach` puts on a product as `_children`."""

    variants: list[VariantRow] = field(default_factory=list)
    options: list[tuple[str, list[Any]]] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (storage name, alt)

    @property
    def in_stock(self) -> bool:
        return any(variant.in_stock for variant in self.variants)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _children_sql(count: int) -> str:
    q = connection.ops.quote_name
    variant, option, image = (m._meta.db_table for m in (ProductVariant, ProductOption, ProductImage))
    reservation = StockReservation._meta.db_table
    ids = ", ".join(["%s"] * count)
    # Table names come from the models' metadata; every value is a parameter.
    return (
        f"SELECT v.product_id, 'v', v.id, v.position, v.sku, v.title, CAST(v.options AS TEXT),"  # noqa: S608
        f" v.unit_amount, v.currency, v.stock_on_hand,"
        f" (SELECT COALESCE(SUM(r.quantity), 0) FROM {q(reservation)} r"
        f"  WHERE r.variant_id = v.id AND r.status = 'held' AND r.expires_at > %s)"
        f" FROM {q(variant)} v WHERE v.is_active AND v.product_id IN ({ids})"
        f" UNION ALL SELECT o.product_id, 'o', o.id, o.position, o.name, '', CAST(o.{q('values')} AS TEXT),"
        f" NULL, NULL, NULL, NULL FROM {q(option)} o WHERE o.product_id IN ({ids})"
        f" UNION ALL SELECT i.product_id, 'i', i.id, i.position, i.image, i.alt, NULL,"
        f" NULL, NULL, NULL, NULL FROM {q(image)} i WHERE i.product_id IN ({ids})"
    )


def product_children_attach(products: Sequence[Product], *, now: datetime | None = None) -> None:
    """Load the variants, options and images of `products` in one query; set `_children` on each."""
    pending = [product for product in products if "_children" not in product.__dict__]
    if not pending:
        return
    ids = [product.pk for product in pending]
    when = connection.ops.adapt_datetimefield_value(now or timezone.now())
    children: dict[int, ProductChildren] = {pk: ProductChildren() for pk in ids}
    # Prepared (shopapi/db.py): lookups by product id plan the same whatever the ids.
    with prepared_statements(), connection.cursor() as cursor:
        # Only table names and placeholders are formatted into the SQL; every value is a parameter.
        cursor.execute(_children_sql(len(ids)), [when, *ids, *ids, *ids])
        rows = sorted(cursor.fetchall(), key=lambda row: (row[3], row[2]))  # position, then id
    for product_id, kind, pk, _position, name, label, data, amount, currency, on_hand, held in rows:
        into = children[product_id]
        if kind == "v":
            into.variants.append(
                VariantRow(pk, name, label, _json(data) or {}, amount, currency, on_hand, int(held))
            )
        elif kind == "o":
            into.options.append((name, list(_json(data) or [])))
        else:
            into.images.append((name, label))
    for product in pending:
        product.__dict__["_children"] = children[product.pk]


def product_children(product: Product) -> ProductChildren:
    """The product's children, loading them (one query) when they were not attached."""
    if "_children" not in product.__dict__:
        product_children_attach([product])
    children: ProductChildren = product.__dict__["_children"]
    return children


def image_url(name: str, request: Any = None) -> str:
    """The absolute URL of a stored image: the storage's own when it is absolute (S3, a CDN),
    else built on the request's host."""
    url = default_storage.url(name)
    if request is not None and not url.startswith(("http://", "https://")):
        return str(request.build_absolute_uri(url))
    return url


def product_sync(product_ids: Iterable[int]) -> int:
    """Set each product's `unit_amount`/`currency` to its lowest active variant's; how many rows.

    A product without an active variant keeps its last price (it can't be bought, and the
    storefront shows it out of stock).
    """
    cheapest = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True).order_by(
        "unit_amount", "position", "pk"
    )
    updated = Product.objects.filter(pk__in=list(product_ids)).update(
        unit_amount=Coalesce(Subquery(cheapest.values("unit_amount")[:1]), F("unit_amount")),
        currency=Coalesce(Subquery(cheapest.values("currency")[:1]), F("currency")),
        updated_at=timezone.now(),
    )
    catalog_changed()
    return updated
