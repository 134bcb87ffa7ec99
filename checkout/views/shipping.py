"""`GET /shipping-methods/`: the active shipping methods, for storefronts to show costs early.

Public and unauthenticated like the catalog. `?country=IN` keeps the methods that ship there
(a method naming no countries ships everywhere the shop does); a malformed code is a 400 naming
`country`. The payment page offers the same methods in the cart's currency (checkout/shipping.py).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkout.serializers.fulfilment import ShippingMethodQuerySerializer, ShippingMethodSerializer
from checkout.shipping import shipping_methods_list
from shopapi.schema import error_responses


class ShippingMethodListView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        tags=["shipping"],
        operation_id="shipping_methods_list",
        summary="List shipping methods",
        description=(
            "The active shipping methods by position (`amount` in minor units of `currency`; "
            "`min_days`/`max_days`: delivery estimate in business days). With `country`, only the "
            "methods that ship there. Checkout offers those in the cart's currency on the payment "
            "page when the cart holds something to ship."
        ),
        parameters=[
            OpenApiParameter(
                "country",
                str,
                OpenApiParameter.QUERY,
                required=False,
                pattern="^[A-Za-z]{2}$",
                description="ISO 3166-1 alpha-2 country code, e.g. IN.",
            )
        ],
        responses={200: ShippingMethodSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = ShippingMethodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        country = query.validated_data.get("country")
        methods = shipping_methods_list(country=country.upper() if country else None)
        return Response(ShippingMethodSerializer(methods, many=True).data)
