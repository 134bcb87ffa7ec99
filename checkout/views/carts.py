"""Cart endpoints: the caller's carts and their lines (`/api/v1/carts/...`), for users and guests.

Views parse input, call one service or selector and shape the answer; ownership is enforced
by the selectors and the cart lock (checkout/ownership.py: anyone else's cart or line, and a
wrong or missing `X-Cart-Token`, is a 404, never a 403 or 401). An anonymous `POST /carts/`
opens a guest cart (throttled per client address, scope `guest_cart`); `GET /carts/` without a
JWT or a token is an empty list. Claiming a guest cart needs a JWT (401 without one).

The cart answers are written by checkout/serializers/cart_json.py (plain rows, and the products'
JSON from the catalog read cache); `CartSerializer` is their contract in the schema, and answers
what that module does not write (e.g. `Accept: application/json; indent=4`).
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from checkout.ownership import CART_TOKEN_HEADER, owner_from_request
from checkout.selectors.carts import (
    cart_get_for_owner,
    cart_list_for_owner,
    cart_rows_get_for_owner,
    cart_rows_list_for_owner,
)
from checkout.serializers.cart_json import cart_json, carts_json, json_answer, plain_json
from checkout.serializers.carts import (
    CappedLineSerializer,
    CartClaimSerializer,
    CartItemAddSerializer,
    CartItemUpdateSerializer,
    CartLineSerializer,
    CartSerializer,
)
from checkout.services.carts import cart_item_add, cart_item_remove, cart_item_update, cart_open
from checkout.services.claims import cart_claim
from checkout.views import UUID_REGEX
from checkout.views.security import (
    ANONYMOUS,
    CART_AUTHENTICATION,
    CART_TOKEN,
    JWT,
    OwnerRules,
    TokenVaryMixin,
    security,
)
from shopapi.schema import error_responses
from shopapi.throttling import AddressRateThrottle

# At most 18 digits, so every id that matches fits a bigint; anything else is a plain 404.
ITEM_ID_REGEX = r"[0-9]{1,18}"

_ITEM_ID_PARAM = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="Cart line id.")
_CART_ID_PARAM = OpenApiParameter("id", UUID, OpenApiParameter.PATH, description="Cart id.")


class GuestCartThrottle(AddressRateThrottle):
    """Anonymous `POST /carts/` calls (each may open a guest cart) per client address
    (`THROTTLE_GUEST_CART`); signed-in callers are not counted."""

    scope = "guest_cart"

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        return super().allow_request(request, view)


class CartViewSet(TokenVaryMixin, viewsets.ViewSet):
    """The caller's carts (a user's, or the guest cart of `X-Cart-Token`); one at most is open."""

    authentication_classes = CART_AUTHENTICATION
    permission_classes = [OwnerRules]
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = UUID_REGEX
    vary_on = (CART_TOKEN_HEADER,)

    def get_throttles(self) -> list[BaseThrottle]:
        return [GuestCartThrottle()] if self.action == "create" else super().get_throttles()

    @extend_schema(
        tags=["carts"],
        operation_id="carts_list",
        description=(
            "Every cart of the caller (open, checked out and merged), each priced at current product "
            "prices: a signed-in user's carts, and the guest cart of `X-Cart-Token`. Without either, "
            "an empty list (not a 401)."
        ),
        summary="List the caller's carts, newest first",
        responses={200: CartSerializer(many=True), **error_responses(401)},
    )
    def list(self, request: Request) -> HttpResponse | Response:
        owner = owner_from_request(request)
        if plain_json(request):
            return json_answer(carts_json(cart_rows_list_for_owner(owner=owner), request))
        carts = cart_list_for_owner(owner=owner)
        return Response(CartSerializer(carts, many=True, context={"request": request}).data)

    @extend_schema(
        tags=["carts"],
        operation_id="carts_create",
        description=(
            "Signed in: returns the caller's open cart (200), or creates it (201); safe to call "
            "concurrently: there is only ever one open cart per user. Anonymous: opens a guest cart "
            "(201) whose `token` is in this answer only: send it as `X-Cart-Token` on every call "
            "about the cart (it is stored hashed and can't be shown again); an anonymous call whose "
            "`X-Cart-Token` names an open guest cart returns that cart (200, `token` null). New guest "
            "carts are limited per client address (429 `throttled`, `THROTTLE_GUEST_CART`)."
        ),
        summary="Get the caller's open cart, or open one (a guest cart without a JWT)",
        request=None,
        auth=security(JWT, CART_TOKEN, ANONYMOUS),
        responses={
            200: OpenApiResponse(CartSerializer, description="The caller's existing open cart."),
            201: OpenApiResponse(CartSerializer, description="A new open cart (a guest's with its `token`)."),
            **error_responses(401, 429),
        },
    )
    def create(self, request: Request) -> HttpResponse | Response:
        opened = cart_open(owner=owner_from_request(request))
        answer = status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK
        if plain_json(request):
            rows = cart_rows_get_for_owner(cart_id=opened.cart.pk, owner=opened.owner)
            return json_answer(cart_json(rows, request, token=opened.token), status=answer)
        cart = cart_get_for_owner(cart_id=opened.cart.pk, owner=opened.owner)
        return Response(
            CartSerializer(cart, context={"request": request, "cart_token": opened.token}).data,
            status=answer,
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
    def retrieve(self, request: Request, id: str) -> HttpResponse | Response:
        owner = owner_from_request(request)
        if plain_json(request):
            return json_answer(cart_json(cart_rows_get_for_owner(cart_id=id, owner=owner), request))
        cart = cart_get_for_owner(cart_id=id, owner=owner)
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
            owner=owner_from_request(request),
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
            cart_id=UUID(id),
            item_id=int(item_id),
            owner=owner_from_request(request),
            quantity=data["quantity"],
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
        cart_item_remove(cart_id=UUID(id), item_id=int(item_id), owner=owner_from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["carts"],
        operation_id="carts_claim",
        description=(
            "Signed in (JWT) with the guest cart's `X-Cart-Token` (both): merges the guest cart into "
            "the caller's open cart (created if there is none) and answers that cart. A variant in "
            "both carts gets the quantities added; every line is capped at CART_MAX_QUANTITY, at "
            "what is in stock and within the largest order amount, and a new line past "
            "CART_MAX_LINES, a product no longer for sale or one in another currency is left out: "
            "`capped` lists each such line and why. The caller's own lines are never lowered. The "
            "guest cart becomes `merged` and its token stops working (404 afterwards, also for a "
            "concurrent second claim: it is merged once). 409 `cart_has_pending_order` while the "
            "guest cart has a pending order (pay or cancel it first); 409 `cart_checked_out` for a "
            "checked-out guest cart."
        ),
        summary="Claim a guest cart into the signed-in caller's cart",
        parameters=[_CART_ID_PARAM],
        request=None,
        auth=security({**JWT, **CART_TOKEN}),
        responses={200: CartClaimSerializer, **error_responses(401, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="claim", permission_classes=[IsAuthenticated])
    def claim(self, request: Request, id: str) -> HttpResponse | Response:
        owner = owner_from_request(request)
        result = cart_claim(cart_id=UUID(id), owner=owner)
        if plain_json(request):
            rows = cart_rows_get_for_owner(cart_id=result.cart.pk, owner=owner)
            capped = list(CappedLineSerializer(result.capped, many=True).data)
            return json_answer(cart_json(rows, request, capped=capped))
        cart = cart_get_for_owner(cart_id=result.cart.pk, owner=owner)
        context = {"request": request, "capped": result.capped}
        return Response(CartClaimSerializer(cart, context=context).data)

    @staticmethod
    def _valid(
        serializer_class: type[CartItemAddSerializer] | type[CartItemUpdateSerializer], request: Request
    ) -> dict[str, int]:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
