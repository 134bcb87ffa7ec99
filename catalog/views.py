"""Public, read-only catalog endpoints: products (filter, search, order, cursor pages) and categories.

Authentication is switched off here on purpose (`authentication_classes = []`): the catalog is the
same for everyone, so a stale or broken `Authorization` header from a logged-in client must never
turn browsing into a 401, and no request pays for a token check it does not need.
Inactive products are neither listed nor retrievable (404).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from catalog.filters import ProductFilter, ProductFilterBackend, ProductSearchFilter, searched_terms
from catalog.http import PAGE_PARAMETERS, PRODUCT_LIST_PARAMETERS, catalog_answer
from catalog.models import Category, Product
from catalog.search import product_search_scan
from catalog.selectors import category_list, product_list_active
from catalog.serializers import CategorySerializer, ProductSerializer
from shopapi.db import prepared_statements
from shopapi.pagination import KeysetPagination
from shopapi.schema import error_responses

# An id (at most 18 digits, so it fits a bigint) or a slug; anything else is a plain 404.
PRODUCT_LOOKUP_REGEX = r"[-a-zA-Z0-9_]{1,220}"
PRODUCT_ID_REGEX = r"[0-9]{1,18}"
# Parameters whose values shape a list's plan (every filter but the ordering, and search).
_VALUE_FILTERS = frozenset(ProductFilter.base_filters) - {"ordering"} | {"search"}


class CategoryPagination(KeysetPagination):
    """Categories come in one page for any normal shop; the shape stays a page regardless."""

    page_size = 100


@extend_schema_view(
    list=extend_schema(
        tags=["catalog"],
        operation_id="products_list",
        summary="List active products",
        description=(
            "Cursor-paginated. `search` matches name or description (case-insensitive, every word "
            "as a substring; a quoted phrase is one word; at most 8 words and 100 characters, and "
            "at least one word of 3 letters or digits); "
            "`category` is a slug (unknown slug: empty list); prices are minor units."
        ),
        responses={200: ProductSerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        tags=["catalog"],
        operation_id="products_retrieve",
        summary="Get an active product by id or slug",
        description=(
            "`id` is the product's id or its slug. A value of digits only is read as an id first, "
            "then as a slug; `GET /products/?slug=` looks up by slug alone."
        ),
        parameters=[
            OpenApiParameter(
                "id",
                str,
                OpenApiParameter.PATH,
                description="Product id, or slug.",
                pattern=f"^{PRODUCT_LOOKUP_REGEX}$",
            )
        ],
        responses={200: ProductSerializer, **error_responses(404)},
    ),
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet[Product]):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = ProductSerializer
    pagination_class = KeysetPagination
    filter_backends = [ProductFilterBackend, ProductSearchFilter]
    filterset_class = ProductFilter
    search_fields = ["name", "description"]
    lookup_value_regex = PRODUCT_LOOKUP_REGEX

    def get_queryset(self) -> QuerySet[Product]:
        return product_list_active()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        """From the catalog read cache (catalog/http.py); searches are a kind of their own (TTL)."""
        return catalog_answer(
            request,
            kind="search" if "search" in request.query_params else "products",
            allowed=PRODUCT_LIST_PARAMETERS,
            build=lambda: super(ProductViewSet, self).list(request, *args, **kwargs),
            renderer_context=self.get_renderer_context,
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        return catalog_answer(
            request,
            kind="product",
            allowed=(),
            build=lambda: super(ProductViewSet, self).retrieve(request, *args, **kwargs),
            renderer_context=self.get_renderer_context,
        )

    def get_object(self) -> Product:
        """By id when the value is one (digits) and such a product is for sale, else by slug."""
        value = str(self.kwargs["pk"])
        queryset = self.get_queryset()
        product = None
        if re.fullmatch(PRODUCT_ID_REGEX, value):
            product = queryset.filter(pk=int(value)).first()
        if product is None:
            product = queryset.filter(slug=value).first()
        if product is None:
            raise Http404
        return product

    def paginate_queryset(self, queryset: QuerySet[Product] | Sequence[Any]) -> Sequence[Any] | None:
        """A search page is read in bounded steps (`catalog.search`); any other page is one range,
        its statement prepared when nothing but the order and the cursor shape it (the same plan
        whatever the cursor; a filter's or a search's plan depends on its values: shopapi/db.py)."""
        paginator = self.paginator
        if (
            not isinstance(paginator, KeysetPagination)
            or not isinstance(queryset, QuerySet)
            or not searched_terms(self.request)
        ):
            plain = _VALUE_FILTERS.isdisjoint(self.request.query_params)
            with prepared_statements() if plain else contextlib.nullcontext():
                return super().paginate_queryset(queryset)
        scan = product_search_scan(self.get_queryset())
        return paginator.paginate_queryset(queryset, self.request, view=self, fetch=scan.fetch_page)


@extend_schema_view(
    list=extend_schema(
        tags=["catalog"],
        operation_id="categories_list",
        summary="List categories",
        description="Every category by name, in cursor pages of up to 100.",
        responses={200: CategorySerializer(many=True), **error_responses(400)},
    ),
)
class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Category]):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = CategorySerializer
    pagination_class = CategoryPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Category]:
        return category_list()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        return catalog_answer(
            request,
            kind="categories",
            allowed=PAGE_PARAMETERS,
            build=lambda: super(CategoryViewSet, self).list(request, *args, **kwargs),
            renderer_context=self.get_renderer_context,
        )
