"""Order endpoints: the caller's order history, confirm after paying, cancel while pending.

A guest reads and cancels its order with `X-Order-Token` and confirms it with the session id
alone (checkout/ownership.py); the order history needs a JWT (401 without one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import connection
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from checkout.models import Order
from checkout.ownership import ORDER_TOKEN_HEADER, order_not_found, owner_from_request
from checkout.selectors.orders import order_get_for_owner, order_list_for_owner, orders_for_owner
from checkout.serializers.cart_json import json_answer, plain_json
from checkout.serializers.order_rows import OrderRow, order_json, order_rows, orders_data, page_json
from checkout.serializers.orders import OrderConfirmSerializer, OrderSerializer
from checkout.services.orders import order_cancel, order_confirm
from checkout.views import UUID_REGEX
from checkout.views.security import ANONYMOUS, JWT, ORDER_AUTHENTICATION, OwnerRules, TokenVaryMixin, security
from payments.interface import gateway
from shopapi.db import prepared_statements
from shopapi.pagination import KeysetPagination, PageQuery
from shopapi.schema import error_responses

if TYPE_CHECKING:
    from rest_framework.permissions import _SupportsHasPermission

PROVIDER = gateway().display_name

_ORDER_ID_PARAM = OpenApiParameter("id", UUID, OpenApiParameter.PATH, description="Order id.")


class OrderCursorPagination(KeysetPagination):
    """Newest first (the selector's `-created_at, -id`); stable under inserts, a bad cursor is a 400."""


def _json_in_sql() -> bool:
    """Whether the database builds the orders' JSON (checkout/serializers/order_rows.py: PostgreSQL's
    JSON functions); on any other (SQLite under `make run`) the serializer shapes model instances."""
    return connection.vendor == "postgresql"


def _page_rows(page: PageQuery) -> list[OrderRow]:
    """The page's orders as rows, each with its items, events and shipments: one query, prepared
    (one owner's newest orders: the same plan whatever the owner; planning it was ~0.6 ms)."""
    with prepared_statements():
        return order_rows(page.queryset, limit=page.limit)


def _parse_uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise order_not_found() from None


class OrderViewSet(TokenVaryMixin, viewsets.GenericViewSet[Order]):
    """The caller's orders (a user's; a guest's by `X-Order-Token`); anyone else's order is a 404."""

    authentication_classes = ORDER_AUTHENTICATION
    permission_classes = [OwnerRules]
    vary_on = (ORDER_TOKEN_HEADER,)
    serializer_class = OrderSerializer
    pagination_class = OrderCursorPagination
    filter_backends: list[type] = []
    lookup_url_kwarg = "id"
    lookup_value_regex = UUID_REGEX

    def get_permissions(self) -> Sequence[_SupportsHasPermission]:
        # The order history is a signed-in caller's (401); one order is whoever's the rules say.
        return [IsAuthenticated()] if self.action == "list" else super().get_permissions()

    @extend_schema(
        tags=["orders"],
        operation_id="orders_list",
        summary="List the caller's orders, newest first",
        description=(
            "The signed-in caller's orders, and the guest orders placed with the caller's email "
            "address once the caller has verified it (`email_verified`): an account attaches the "
            "orders bought as a guest with an address it has proved is its own."
        ),
        auth=security(JWT),
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=list(Order.Status.values),
                description="Only orders in this status.",
            )
        ],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> HttpResponse | Response:
        status_filter = request.query_params.get("status") or None
        if status_filter is not None and status_filter not in Order.Status.values:
            raise serializers.ValidationError(
                {"status": [f"Unknown status; one of {', '.join(Order.Status.values)}."]}
            )
        owner = owner_from_request(request)
        paginator = self.paginator
        assert isinstance(paginator, KeysetPagination)
        if not _json_in_sql():
            orders = paginator.paginate_queryset(orders_for_owner(owner=owner, status=status_filter), request)
            return paginator.get_paginated_response(OrderSerializer(orders, many=True).data)
        queryset = order_list_for_owner(owner=owner, status=status_filter)
        rows = paginator.paginate_queryset(queryset, request, view=self, fetch=_page_rows)
        # OrderSerializer's answer, written from rows (checkout/serializers/order_rows.py)
        if plain_json(request):
            return json_answer(
                page_json(rows, next_url=paginator.next_cursor, previous_url=paginator.previous_cursor)
            )
        return paginator.get_paginated_response(orders_data(rows))

    @extend_schema(
        tags=["orders"],
        operation_id="orders_retrieve",
        summary="One of the caller's orders, with items and status history",
        description="A guest order is read with its `X-Order-Token` (no JWT); a user's with its owner's JWT.",
        parameters=[_ORDER_ID_PARAM],
        responses={200: OrderSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, id: str) -> HttpResponse | Response:
        order_id = _parse_uuid(id)
        if not _json_in_sql():
            order = order_get_for_owner(order_id=order_id, owner=owner_from_request(request))
            return Response(OrderSerializer(order).data)
        rows = order_rows(order_list_for_owner(owner=owner_from_request(request)).filter(pk=order_id))
        if not rows:
            raise order_not_found()
        if plain_json(request):
            return json_answer(order_json(rows[0]))
        return Response(orders_data(rows)[0])

    @extend_schema(
        tags=["orders"],
        operation_id="orders_confirm",
        summary=f"Confirm payment after returning from {PROVIDER} Checkout",
        description=(
            f"Verifies the session with {PROVIDER} and marks the order paid if it is. Safe to call any "
            "number of times and concurrently with the webhook: the order becomes paid once. "
            f"An unpaid session answers 200 with the order still pending; 503 when {PROVIDER} is "
            "unreachable (the order stays pending; retry). A guest order is confirmed without a JWT "
            "(the session id is the credential) and answered with its `order_token`; a signed-in "
            "user's order needs its owner's JWT (404 otherwise)."
        ),
        auth=security(JWT, ANONYMOUS),
        request=OrderConfirmSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 404, 502, 503)},
        examples=[
            OpenApiExample(
                "From the success page",
                value={"session_id": "cs_test_a1B2c3D4e5F6g7H8"},
                request_only=True,
            ),
            OpenApiExample(
                "Paid order",
                value={
                    "id": "6f1c2a4e-8d0b-4c59-9a53-0c2f1d7e4b21",
                    "number": "SA-7K3F9Q2M",
                    "status": "paid",
                    "currency": "inr",
                    "total_amount": 264900,
                    "subtotal_amount": 249900,
                    "shipping_amount": 15000,
                    "discount_amount": 0,
                    "tax_amount": 0,
                    "amount_refunded": 0,
                    "oversold": False,
                    "items": [
                        {
                            "id": 311,
                            "product_id": 42,
                            "variant_id": 87,
                            "sku": "copper-kettle-1-5l",
                            "name": "Copper kettle",
                            "variant_title": "1.5 l",
                            "unit_amount": 249900,
                            "quantity": 1,
                            "line_total": 249900,
                            "quantity_shipped": 0,
                        }
                    ],
                    "shipping": {
                        "method": {"id": 1, "name": "Standard"},
                        "address": {
                            "name": "Asha Rao",
                            "line1": "12 MG Road",
                            "line2": "",
                            "city": "Bengaluru",
                            "state": "KA",
                            "postal_code": "560001",
                            "country": "IN",
                        },
                    },
                    "fulfilment_status": "unfulfilled",
                    "shipments": [],
                    "checkout_url": "https://checkout.example.com/c/pay/cs_test_a1B2c3D4e5F6g7H8",
                    "session_expires_at": "2026-11-29T16:05:00Z",
                    "created_at": "2026-11-29T15:35:00Z",
                    "updated_at": "2026-11-29T15:37:12Z",
                    "paid_at": "2026-11-29T15:37:12Z",
                    "events": [
                        {
                            "status": "pending",
                            "kind": "status",
                            "created_at": "2026-11-29T15:35:00Z",
                            "source": "api",
                        },
                        {
                            "status": "paid",
                            "kind": "status",
                            "created_at": "2026-11-29T15:37:12Z",
                            "source": "webhook",
                        },
                    ],
                    "order_token": None,
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    @action(detail=False, methods=["post"], url_path="confirm")
    def confirm(self, request: Request) -> Response:
        serializer = OrderConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_confirm(
            session_id=serializer.validated_data["session_id"], owner=owner_from_request(request)
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(
        tags=["orders"],
        operation_id="orders_cancel",
        summary=f"Cancel a pending order (its {PROVIDER} session is expired)",
        description=(
            f"Only while `pending` (else 409 `order_not_pending`). If {PROVIDER} says the session was "
            "paid meanwhile, the order is marked paid instead and the answer is 409 "
            "`order_already_paid`; if its payment failed, 409 `order_payment_failed`; while a payment "
            "is processing, 409 `payment_in_progress`. A session that had already expired leaves the "
            "order `expired` (200). A guest cancels with its `X-Order-Token` (no JWT)."
        ),
        parameters=[_ORDER_ID_PARAM],
        request=None,
        responses={200: OrderSerializer, **error_responses(401, 404, 409, 502, 503)},
    )
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel(self, request: Request, id: str) -> Response:
        order = order_cancel(order_id=_parse_uuid(id), owner=owner_from_request(request))
        return Response(OrderSerializer(order).data)
