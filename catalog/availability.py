"""Availability in SQL, for lists and filters (the back-office), and what "low stock" means.

`catalog.stock.available_quantity` is the rule for one variant in Python: on hand − what live
reservations hold, never below 0, `None` when not tracked. `variants_with_availability` is the same
rule as SQL annotations (`_held`, `_available`) so a list of variants, its filters and its columns
cost one query whatever the number of rows; `products_with_stock` sums it per product.

A variant is **low stock** when its stock is tracked and at most `LOW_STOCK_THRESHOLD` units
(settings, default 5) are available; out of stock (0 available) is low stock too.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from catalog.models import ProductVariant
from catalog.stock import held_total

_M = TypeVar("_M", bound=Model)


def low_stock_threshold() -> int:
    """At most this many units available is "low stock" (`LOW_STOCK_THRESHOLD`, default 5)."""
    return int(getattr(settings, "LOW_STOCK_THRESHOLD", 5))


def is_low_stock(available: int | None) -> bool:
    """Whether a variant with `available` units (None: not tracked) is low on stock."""
    return available is not None and available <= low_stock_threshold()


def variants_with_availability(
    queryset: QuerySet[ProductVariant], *, now: datetime | None = None
) -> QuerySet[ProductVariant]:
    """The variants annotated with `_held` (units live reservations hold) and `_available`
    (on hand − held, never below 0; NULL when the stock is not tracked)."""
    return queryset.annotate(_held=held_total(now or timezone.now())).annotate(
        _available=Case(
            When(stock_on_hand__isnull=True, then=Value(None)),
            default=Greatest(F("stock_on_hand") - F("_held"), Value(0)),
            output_field=IntegerField(),
        )
    )


def low_stock_condition() -> Q:
    """For variants annotated by `variants_with_availability`: tracked, at most the threshold left."""
    return Q(_available__lte=low_stock_threshold())


def out_of_stock_condition() -> Q:
    """For annotated variants: tracked and nothing available."""
    return Q(_available=0)


def products_with_stock(queryset: QuerySet[_M], *, now: datetime | None = None) -> QuerySet[_M]:
    """Products annotated with, over their variants (one subquery each, evaluated per listed row):
    `_variant_count` (all variants), `_available_total` (units available over the active tracked
    variants; NULL when none is tracked), `_untracked` (an active variant whose stock is not
    tracked, so the product never runs out) and `_low_stock` (an active tracked variant is low)."""
    now = now or timezone.now()
    variants = ProductVariant.objects.filter(product=OuterRef("pk"))
    active_tracked = variants_with_availability(
        variants.filter(is_active=True, stock_on_hand__isnull=False), now=now
    )
    return queryset.annotate(
        _variant_count=Coalesce(
            Subquery(
                variants.order_by()
                .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
                .values("n")[:1]
            ),
            Value(0),
        ),
        _available_total=Subquery(
            active_tracked.order_by()
            .annotate(total=Func(F("_available"), function="SUM", output_field=IntegerField()))
            .values("total")[:1]
        ),
        _untracked=Exists(variants.filter(is_active=True, stock_on_hand__isnull=True)),
        _low_stock=Exists(active_tracked.filter(low_stock_condition())),
    )
