"""`POST /api/v1/carts/{id}/checkout/`: start (or resume) paying for the caller's cart (a user's,
or a guest's with `X-Cart-Token` and the buyer's `email`)."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkout.ownership import CART_TOKEN_HEADER, owner_from_request
from checkout.serializers.orders import CheckoutSerializer, CheckoutStartSerializer
from checkout.services.checkout import checkout_start
from checkout.views.security import CART_AUTHENTICATION, OwnerRules, TokenVaryMixin
from payments.interface import gateway
from shopapi.schema import error_responses
from shopapi.throttling import AddressRateThrottle, UserRateThrottle

PROVIDER = gateway().display_name


class CheckoutUserThrottle(UserRateThrottle):
    scope = "checkout"


class CheckoutAddressThrottle(AddressRateThrottle):
    scope = "checkout_address"


class CartCheckoutView(TokenVaryMixin, APIView):
    """One pending order and one payable payment session per cart content."""

    authentication_classes = CART_AUTHENTICATION
    permission_classes = [OwnerRules]
    throttle_classes = [CheckoutUserThrottle, CheckoutAddressThrottle]
    vary_on = (CART_TOKEN_HEADER,)

    @extend_schema(
        tags=["checkout"],
        operation_id="carts_checkout",
        summary=f"Check out a cart: get the {PROVIDER} Checkout URL to pay it",
        description=(
            f"Creates a pending order snapshotting the cart and a {PROVIDER} Checkout Session (201). "
            "Calling it again while that session is open and the cart is unchanged returns the same "
            "order and `checkout_url` (200): double clicks, retries and second devices never open a "
            "second payable session. A changed cart expires the previous session first. "
            "A guest cart (`X-Cart-Token`) needs the buyer's `email` in the body (400 naming `email` "
            "without one or with an invalid one): the order keeps it, the payment page is prefilled "
            "with it, and the answer's `order_token` (send it as `X-Order-Token`) reads and cancels "
            "the guest order; a corrected email replaces the pending session. For a signed-in user's "
            "cart `email` is ignored and `order_token` is null. "
            "409 `cart_already_paid` when the previous session was paid meanwhile, "
            "409 `payment_in_progress` while an asynchronous payment is processing, "
            "400 `cart_empty` / `product_unavailable` / `currency_mismatch` / `order_too_large` / "
            "`order_too_small` / `cart_too_many_lines`, "
            f"502 when {PROVIDER} answers with an error (the order is kept as `failed`; a retry "
            f"creates a new one), 503 when {PROVIDER} does not answer in time (the order stays "
            "`pending` with its session unknown; a retry gets that one session, never a second; "
            f"a 503 for {PROVIDER}'s own rate limit carries `Retry-After`), "
            "429 `throttled` (with `Retry-After`) past the per-user or per-address checkout rate."
        ),
        parameters=[OpenApiParameter("id", UUID, OpenApiParameter.PATH, description="Cart id.")],
        request=CheckoutStartSerializer,
        responses={
            201: OpenApiResponse(CheckoutSerializer, description="A new order and Checkout Session."),
            200: OpenApiResponse(CheckoutSerializer, description="The open session for this content."),
            **error_responses(400, 401, 404, 409, 429, 502, 503),
        },
        examples=[
            OpenApiExample(
                "Checkout session",
                value={
                    "order_id": "6f1c2a4e-8d0b-4c59-9a53-0c2f1d7e4b21",
                    "order_number": "SA-7K3F9Q2M",
                    "session_id": "cs_test_a1B2c3D4e5F6g7H8",
                    "checkout_url": "https://checkout.example.com/c/pay/cs_test_a1B2c3D4e5F6g7H8",
                    "expires_at": "2026-11-29T16:05:00Z",
                    "order_token": None,
                },
                response_only=True,
                status_codes=["201", "200"],
            ),
            OpenApiExample("Guest checkout", value={"email": "asha@example.com"}, request_only=True),
            OpenApiExample(
                "Paid meanwhile",
                value={
                    "code": "cart_already_paid",
                    "message": "This cart was already paid; no new payment was started.",
                    "fields": {},
                },
                response_only=True,
                status_codes=["409"],
            ),
        ],
    )
    def post(self, request: Request, id: UUID) -> Response:
        body = CheckoutStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = checkout_start(
            cart_id=id, owner=owner_from_request(request), email=body.validated_data.get("email")
        )
        return Response(
            CheckoutSerializer(result.order).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
