"""Cart endpoints: the caller's carts and their lines (`/api/v1/carts/...`).

Views parse input, call one service or selector and shape the answer; ownership is enforced
by the selectors and the cart lock (anyone else's cart or line is a 404, never a 403).
"""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from checkout.selectors.carts import cart_get_for_user, cart_list_for_user
from checkout.serializers.carts import (
    CartItemAddSerializer,
    CartItemUpdateSerializer,
    CartLineSerializer,
    CartSerializer,
)
from checkout.services.carts import (
    cart_get_or_create_open,
    cart_item_add,
    cart_item_remove,
    cart_item_update,
)
from checkout.views import UUID_REGEX
from shopapi.schema import error_responses

# At most 18 digits, so every id that matches fits a bigint; anything else is a plain 404.
ITEM_ID_REGEX = r"[0-9]{1,18}"

_ITEM_ID_PARAM = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="Cart line id.")
_CART_ID_PARAM = OpenApiParameter("id", UUID, OpenApiParameter.PATH, description="Cart id.")


class CartViewSet(viewsets.ViewSet):
    """The caller's carts; one of them at most is open."""

    permission_classes = [IsAuthenticated]
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = UUID_REGEX

    @extend_schema(
        tags=["carts"],
        operation_id="carts_list",
        description=(
            "Every cart of the caller (open and checked out), each priced at current product prices."
        ),
        summary="List the caller's carts, newest first",
        responses={200: CartSerializer(many=True), **error_responses(401)},
    )
    def list(self, request: Request) -> Response:
        carts = cart_list_for_user(user=request.user)
        return Response(CartSerializer(carts, many=True, context={"request": request}).data)

    @extend_schema(
        tags=["carts"],
        operation_id="carts_create",
        description=(
            "Returns the caller's open cart (200), or creates it (201). Safe to call concurrently: "
            "there is only ever one open cart per user."
        ),
        summary="Get the caller's open cart, or open one",
        request=None,
        responses={
            200: OpenApiResponse(CartSerializer, description="The caller's existing open cart."),
            201: OpenApiResponse(CartSerializer, description="A new open cart."),
            **error_responses(401),
        },
    )
    def create(self, request: Request) -> Response:
        cart, created = cart_get_or_create_open(user=request.user)
        cart = cart_get_for_user(cart_id=cart.pk, user=request.user)
        return Response(
            CartSerializer(cart, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        tags=["carts"],
        operation_id="carts_retrieve",
        description=(
            "Totals, line totals and unit amounts are computed server-side from current product prices."
            " Anyone else's cart is a 404."
        ),
        summary="One of the caller's carts, priced at current product prices",
        parameters=[_CART_ID_PARAM],
        responses={200: CartSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, id: str) -> Response:
        cart = cart_get_for_user(cart_id=id, user=request.user)
        return Response(CartSerializer(cart, context={"request": request}).data)

    @extend_schema(
        tags=["carts"],
        operation_id="carts_items_add",
        description=(
            "Adds `quantity` units of an active variant (`variant_id`), or of a product that has "
            "exactly one active variant (`product_id`; a product with several is a 400 naming "
            "`variant_id`). If the cart already has a line for that variant, that line grows. The "
            "line may hold at most CART_MAX_QUANTITY units, and no more than is in stock (409 "
            "`insufficient_stock` naming `quantity` with how many are left); every line must share "
            "the cart's currency. A checked-out cart is read-only (409 `cart_checked_out`)."
        ),
        summary="Add a variant to the cart (adds to its existing line)",
        parameters=[_CART_ID_PARAM],
        request=CartItemAddSerializer,
        responses={201: CartLineSerializer, **error_responses(400, 401, 404, 409)},
        examples=[
            OpenApiExample("Add two of a variant", value={"variant_id": 7, "quantity": 2}, request_only=True),
            OpenApiExample(
                "Add one of a product with a single variant",
                value={"product_id": 42, "quantity": 1},
                request_only=True,
            ),
            OpenApiExample(
                "Not enough in stock",
                value={
                    "code": "insufficient_stock",
                    "message": "Only 2 of T-shirt (M) left.",
                    "fields": {"quantity": ["Only 2 of T-shirt (M) left."]},
                },
                response_only=True,
                status_codes=["409"],
            ),
            OpenApiExample(
                "Quantity out of range",
                value={
                    "code": "validation_error",
                    "message": "Invalid input.",
                    "fields": {"quantity": ["Ensure this value is less than or equal to 99."]},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=True, methods=["post"], url_path="items")
    def items_add(self, request: Request, id: str) -> Response:
        data = self._valid(CartItemAddSerializer, request)
        item = cart_item_add(
            cart_id=UUID(id),
            user=request.user,
            product_id=data.get("product_id"),
            variant_id=data.get("variant_id"),
            quantity=data["quantity"],
        )
        return Response(
            CartLineSerializer(item, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        tags=["carts"],
        operation_id="carts_items_update",
        description=(
            "Sets the line's quantity (1..CART_MAX_QUANTITY); more than is in stock is a 409 "
            "`insufficient_stock` naming `quantity` with how many are left. A checked-out cart is "
            "read-only (409 `cart_checked_out`)."
        ),
        summary="Set the quantity of a cart line",
        parameters=[_CART_ID_PARAM, _ITEM_ID_PARAM],
        request=CartItemUpdateSerializer,
        responses={200: CartLineSerializer, **error_responses(400, 401, 404, 409)},
    )
    @action(detail=True, methods=["patch"], url_path=rf"items/(?P<item_id>{ITEM_ID_REGEX})")
    def items_update(self, request: Request, id: str, item_id: str) -> Response:
        data = self._valid(CartItemUpdateSerializer, request)
        item = cart_item_update(
            cart_id=UUID(id), item_id=int(item_id), user=request.user, quantity=data["quantity"]
        )
        return Response(CartLineSerializer(item, context={"request": request}).data)

    @extend_schema(
        tags=["carts"],
        operation_id="carts_items_remove",
        description=("Deletes the line. A checked-out cart is read-only (409 `cart_checked_out`)."),
        summary="Remove a line from the cart",
        parameters=[_CART_ID_PARAM, _ITEM_ID_PARAM],
        request=None,
        responses={204: None, **error_responses(401, 404, 409)},
    )
    @items_update.mapping.delete
    def items_remove(self, request: Request, id: str, item_id: str) -> Response:
        cart_item_remove(cart_id=UUID(id), item_id=int(item_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _valid(
        serializer_class: type[CartItemAddSerializer] | type[CartItemUpdateSerializer], request: Request
    ) -> dict[str, int]:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
