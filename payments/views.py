"""`POST /api/v1/payments/<provider>/webhook/`: the payment provider's signed event deliveries.

No JWT and no CSRF (the provider authenticates with its signature header, checked over the raw
body). The body is read from `request.body` before anything parses it; the parser below only
exists so DRF accepts any content type and documents the raw JSON event in the schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.interface import gateway
from payments.webhooks import WebhookOutcome, webhook_receive
from shopapi.schema import error_responses


class RawJSONParser(BaseParser):
    """Leaves the body untouched (the view reads `request.body`); documents it as JSON."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream.read() if stream is not None else b""


class WebhookAckSerializer(serializers.Serializer[Any]):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(required=False, help_text="True when this event id was seen before.")
    ignored = serializers.BooleanField(
        required=False, help_text="True for an event type shopapi does not act on."
    )


_provider = gateway()


class WebhookView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]

    @extend_schema(
        tags=["payments"],
        operation_id=f"payments_{_provider.slug}_webhook",
        summary=f"Receive a {_provider.display_name} event (called by {_provider.display_name})",
        description=(
            f"{_provider.display_name}'s signed event, verified with `{_provider.signature_header}` over "
            "the raw body. Each event id is processed once: a replay answers 200 with `duplicate: true` "
            "and changes nothing. Event types shopapi does not act on answer 200 with `ignored: true`."
        ),
        auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: OpenApiResponse(WebhookAckSerializer, description="Verified (and recorded) event."),
            **error_responses(400),
        },
    )
    def post(self, request: Request) -> Response:
        payload = request.body  # raw bytes, before DRF could parse them
        result = webhook_receive(payload=payload, headers=request.headers)
        body: dict[str, bool] = {"received": True}
        if result.outcome is WebhookOutcome.DUPLICATE:
            body["duplicate"] = True
        elif result.outcome is WebhookOutcome.IGNORED:
            body["ignored"] = True
        return Response(body)
