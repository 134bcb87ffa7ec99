"""Product list filters (django-filter): category slug, price range in minor units, ordering.

Free-text `search` is `ProductSearchFilter`, DRF's `SearchFilter` with the words split as DRF does
and matched as `catalog/search.py` says: every word must occur in the name or the description,
case-insensitively; at most `SEARCH_MAX_LENGTH` characters and `SEARCH_MAX_TERMS` words, and at
least one word of three letters or digits (what the trigram index can look up). The words are
parsed once per request: the filter leaves them on the request (`searched_terms`) for the view,
which reads a search page through the bounded plan in `catalog/search.py`.

Every bad value is a 400 whose `fields` names the parameter; nothing here parses the query string
by hand.

- `category`: a category slug. An unknown slug gives an empty list, not an error: a link to a
  category that was renamed or removed should show "no products", not break the page.
- `min_price` / `max_price`: whole numbers of minor units, >= 0; `min_price > max_price` is a 400
  naming `max_price`.
- `ordering`: one of `PRODUCT_ORDERINGS`; anything else (including several fields) is a 400 naming
  `ordering`. Each choice ends with `id` in the same direction so the keyset paginator always has a
  unique tiebreaker and every ordering is served by a composite index
  (see `Product.Meta.indexes`).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.request import Request

from catalog.models import Product
from catalog.search import (
    SEARCH_MAX_LENGTH,
    SEARCH_MAX_TERMS,
    SEARCH_MIN_INDEXED_RUN,
    is_indexed,
    normalize_terms,
    search_condition,
)
from catalog.stock import in_stock_condition

# ordering parameter -> the queryset ordering (always ending with the pk tiebreaker).
PRODUCT_ORDERINGS: dict[str, tuple[str, str]] = {
    "unit_amount": ("unit_amount", "id"),
    "-unit_amount": ("-unit_amount", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
DEFAULT_PRODUCT_ORDERING = PRODUCT_ORDERINGS["-created_at"]
# Where the search filter leaves the words it parsed, so the page fetch does not parse them again.
SEARCHED_TERMS_ATTR = "searched_terms"


class ProductSearchFilter(SearchFilter):
    """DRF's search, with its errors naming `search`, a bound on the work one query asks, and one
    trigram index for every word (`catalog.search.search_condition`)."""

    search_description = (
        "Words that must all occur in the name or the description (substring, case-insensitive; "
        'a quoted "phrase" is one word). At most 8 words and 100 characters, and at least one '
        "word of 3 letters or digits; otherwise a 400 naming `search`, as is a search too broad "
        "to answer in time (`search_too_broad`)."
    )

    def get_search_terms(self, request: Request) -> list[str]:
        raw = request.query_params.get(self.search_param, "")
        if len(raw) > SEARCH_MAX_LENGTH:
            raise ValidationError({self.search_param: [f"At most {SEARCH_MAX_LENGTH} characters."]})
        try:
            terms = normalize_terms(list(super().get_search_terms(request)))
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
        if len(terms) > SEARCH_MAX_TERMS:
            raise ValidationError({self.search_param: [f"At most {SEARCH_MAX_TERMS} words."]})
        if terms and not any(is_indexed(term) for term in terms):
            raise ValidationError(
                {
                    self.search_param: [
                        f"Include a word of at least {SEARCH_MIN_INDEXED_RUN} letters or digits."
                    ]
                }
            )
        return terms

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        if self.search_param not in request.query_params:  # the plain list, the hottest request
            return queryset
        terms = self.get_search_terms(request)
        setattr(request, SEARCHED_TERMS_ATTR, terms)
        return queryset.filter(search_condition(terms)) if terms else queryset


def searched_terms(request: Request) -> list[str]:
    """The words `ProductSearchFilter` parsed for this request (none when it did not search)."""
    terms: list[str] = getattr(request, SEARCHED_TERMS_ATTR, [])
    return terms


class ProductFilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the filters.

    The plain first page (the hottest request) has nothing to filter, so it does not pay for
    building and validating the filter form. Any filter parameter, valid or not, still goes
    through the form, so every bad value is a 400.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


@extend_schema_field(OpenApiTypes.INT)
class MinorUnitsFilter(django_filters.Filter):
    """A whole, non-negative number of minor units (paise); "1.5" or "-1" is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        super().__init__(*args, **kwargs)


class ProductFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "Must be greater than or equal to min_price.")
        return cleaned


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        field_name="category__slug", help_text="Category slug; an unknown slug gives an empty list."
    )
    min_price = MinorUnitsFilter(
        field_name="unit_amount", lookup_expr="gte", help_text="Lowest unit_amount, in minor units."
    )
    max_price = MinorUnitsFilter(
        field_name="unit_amount", lookup_expr="lte", help_text="Highest unit_amount, in minor units."
    )
    slug = django_filters.CharFilter(field_name="slug", help_text="Exact slug: the one product (or none).")
    in_stock = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_in_stock",
        help_text="`true`: only products with an active variant that can be bought now; `false`: the others.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in PRODUCT_ORDERINGS],
        method="filter_ordering",
        empty_label=None,
        help_text="Sort order (default `-created_at`); ties are broken by id.",
    )

    class Meta:
        model = Product
        fields = ["category", "slug", "min_price", "max_price", "in_stock", "ordering"]
        form = ProductFilterForm

    def filter_ordering(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset.order_by(*PRODUCT_ORDERINGS[value])

    def filter_in_stock(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        condition = in_stock_condition(timezone.now())
        return queryset.filter(condition if value == "true" else ~condition)
