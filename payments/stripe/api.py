"""Stripe's API through the official SDK: small typed calls returning `payments.stripe.parsing` values.

Nothing outside `payments/stripe/` sees SDK objects or SDK exceptions. Every call reads its
settings at call time (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`, `STRIPE_TIMEOUT_SECONDS`,
`STRIPE_MAX_NETWORK_RETRIES`), so tests can point it at fakestripe with the `settings` fixture.
Stripe errors become ours:

- connection refused, timeout, rate limit, "a request with this idempotency key is still in
  progress" (409) → `PaymentProviderUnavailable` (503, `payment_provider_unavailable`; the rate
  limit with a `Retry-After`);
- authentication / permission → `PaymentProviderError` (502, `payment_provider_misconfigured`);
- anything else Stripe answers → `PaymentProviderError` (502, `payment_provider_error`).

The API key and card data are never logged: only the operation, the error class, the HTTP
status, Stripe's error code and its request id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from rest_framework import status

from payments.interface import (
    CheckoutOptions,
    LineItem,
    RefundRefused,
    SessionNotOpen,
    ShippingOption,
    WebhookSignatureInvalid,
)
from payments.models import ProviderEvent
from payments.stripe.parsing import (
    SHIPPING_METHOD_KEY,
    StripeRefund,
    StripeSession,
    refund_from_payload,
    session_from_payload,
)
from shopapi.errors import ErrorCode
from shopapi.exceptions import PaymentProviderError, PaymentProviderUnavailable
from shopapi.parsers import json_loads, json_nodes

__all__ = [
    "LineItem",
    "RefundRefused",
    "SessionNotOpen",
    "StripeSession",
    "WebhookSignatureInvalid",
    "checkout_session_create",
    "checkout_session_expire",
    "checkout_session_retrieve",
    "refund_create",
    "refunds_list",
    "session_from_payload",
    "webhook_event_construct",
]

logger = logging.getLogger(__name__)

# Stripe's refusals of a refund that are the business's answer, not a failure.
_REFUND_REFUSALS = {
    "charge_already_refunded": ErrorCode.CHARGE_ALREADY_REFUNDED,
    "amount_too_large": ErrorCode.AMOUNT_TOO_LARGE,
}


# Retry-After on a 503 for Stripe's 429 when Stripe names no wait (it usually does not).
_RATE_LIMIT_RETRY_AFTER_SECONDS = 2


def _log_stripe_error(operation: str, exc: stripe.StripeError) -> None:
    logger.warning(
        "stripe %s failed: %s http_status=%s code=%s request_id=%s",
        operation,
        type(exc).__name__,
        exc.http_status,
        exc.code,
        exc.request_id,
    )


def _translate(exc: stripe.StripeError) -> PaymentProviderError:
    if isinstance(exc, stripe.RateLimitError):
        # Stripe's 429: our account is over its rate; tell the client when to come back.
        retry_after = str((exc.headers or {}).get("Retry-After") or "")
        return PaymentProviderUnavailable(
            retry_after=int(retry_after) if retry_after.isdigit() else _RATE_LIMIT_RETRY_AFTER_SECONDS
        )
    if isinstance(exc, stripe.APIConnectionError):
        return PaymentProviderUnavailable()
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentProviderError(
            "The payment provider rejected our credentials.",
            code=ErrorCode.PAYMENT_PROVIDER_MISCONFIGURED,
        )
    if exc.http_status == status.HTTP_409_CONFLICT:
        # An earlier attempt with the same idempotency key is still running at Stripe
        # (typically after a client-side timeout): the provider is slow, retry later.
        return PaymentProviderUnavailable()
    return PaymentProviderError()


@contextmanager
def _stripe_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        _log_stripe_error(operation, exc)
        raise _translate(exc) from exc


@lru_cache(maxsize=8)
def _client_for(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    # RequestsClient keeps one requests.Session per thread, so the cached client is thread-safe.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=retries,
    )


def _client() -> stripe.StripeClient:
    return _client_for(
        str(settings.STRIPE_SECRET_KEY),
        str(settings.STRIPE_API_BASE or ""),
        float(settings.STRIPE_TIMEOUT_SECONDS),
        int(getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 1)),
    )


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


def checkout_session_create(
    *,
    order_id: str,
    order_number: str,
    line_items: Sequence[LineItem],
    currency: str,
    customer_email: str | None,
    expires_at: datetime,
    idempotency_key: str,
    options: CheckoutOptions | None = None,
) -> StripeSession:
    """Create a `mode=payment` Checkout Session for one order (idempotent on `idempotency_key`)."""
    metadata = {"order_id": order_id, "order_number": order_number}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": line.quantity,
                "price_data": {
                    "currency": currency,
                    "unit_amount": line.unit_amount,
                    "product_data": {"name": line.name},
                },
            }
            for line in line_items
        ],
        "client_reference_id": order_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": str(settings.CHECKOUT_SUCCESS_URL),
        "cancel_url": str(settings.CHECKOUT_CANCEL_URL),
        "expires_at": int(expires_at.timestamp()),
    }
    if customer_email:
        params["customer_email"] = customer_email
    if options is not None:
        params.update(_option_params(options, currency))
    with _stripe_errors("checkout_session_create"):
        session = _client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    return session_from_payload(_as_dict(session))


def _option_params(options: CheckoutOptions, currency: str) -> dict[str, Any]:
    """Shipping address collection, shipping options (inline rates carrying our method's id in
    their metadata), promotion codes and automatic tax."""
    params: dict[str, Any] = {}
    if options.shipping_countries:
        params["shipping_address_collection"] = {"allowed_countries": list(options.shipping_countries)}
    if options.shipping_options:
        params["shipping_options"] = [
            {"shipping_rate_data": _shipping_rate_data(option, currency)}
            for option in options.shipping_options
        ]
    if options.allow_promotion_codes:
        params["allow_promotion_codes"] = True
    if options.automatic_tax:
        params["automatic_tax"] = {"enabled": True}
    return params


def _shipping_rate_data(option: ShippingOption, currency: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "fixed_amount",
        "display_name": option.name,
        "fixed_amount": {"amount": option.amount, "currency": currency},
        "metadata": {SHIPPING_METHOD_KEY: option.ref},
    }
    estimate = {
        bound: {"unit": "business_day", "value": days}
        for bound, days in (("minimum", option.min_days), ("maximum", option.max_days))
        if days is not None
    }
    if estimate:
        data["delivery_estimate"] = estimate
    return data


def checkout_session_retrieve(*, session_id: str) -> StripeSession:
    """The current state of a Checkout Session, with its payment intent's status and its chosen
    shipping rate (whose metadata names our shipping method)."""
    with _stripe_errors("checkout_session_retrieve"):
        session = _client().v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["payment_intent", "shipping_cost.shipping_rate"]}
        )
    return session_from_payload(_as_dict(session))


def checkout_session_expire(*, session_id: str) -> StripeSession:
    """Expire an open session so it can no longer be paid; `SessionNotOpen` if it is not open."""
    with _stripe_errors("checkout_session_expire"):
        try:
            session = _client().v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as exc:
            # Stripe answers a plain 400 (no error code) for "only open sessions can be expired".
            # Any 400 other than an unknown session is read that way: callers then retrieve the
            # session and act on its real status (and fail loudly if it turns out to be open).
            if exc.http_status == status.HTTP_400_BAD_REQUEST and exc.code != "resource_missing":
                raise SessionNotOpen(session_id) from exc
            raise
    return session_from_payload(_as_dict(session))


def refund_create(
    *,
    payment_intent_id: str,
    amount: int,
    idempotency_key: str,
    metadata: Mapping[str, str] | None = None,
) -> StripeRefund:
    """Refund `amount` minor units of a payment; `RefundRefused` when Stripe says no for a reason."""
    params: dict[str, Any] = {"payment_intent": payment_intent_id, "amount": amount}
    if metadata:
        params["metadata"] = dict(metadata)
    with _stripe_errors("refund_create"):
        try:
            refund = _client().v1.refunds.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            refusal = _REFUND_REFUSALS.get(str(exc.code))
            if refusal is not None:
                raise RefundRefused(refusal, str(exc.user_message or exc.code)) from exc
            raise
    return refund_from_payload(_as_dict(refund))


def refunds_list(*, payment_intent_id: str) -> list[StripeRefund]:
    """Every refund of a payment intent (Stripe's list is capped at 100 a page; one payment has
    far fewer refunds than that)."""
    with _stripe_errors("refunds_list"):
        page = _client().v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
    return [refund_from_payload(_as_dict(item)) for item in page.data]


def webhook_event_construct(*, payload: bytes, sig_header: str | None) -> dict[str, Any]:
    """Verify `Stripe-Signature` over the raw body (tolerance from settings) and parse the event.

    Same check as `stripe.Webhook.construct_event`, but it returns the plain JSON dict: the
    event is read through the parsers, never through SDK objects.
    """
    if not sig_header:
        raise WebhookSignatureInvalid("Missing Stripe-Signature header.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            sig_header,
            str(settings.STRIPE_WEBHOOK_SECRET),
            int(settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS),
        )
        event = json_loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(str(exc.user_message or "Invalid signature.")) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookSignatureInvalid("The webhook body is not valid JSON.") from exc
    if not _is_event(event, may_hold_nul=b"\\u0000" in payload):
        raise WebhookSignatureInvalid("The webhook body is not a Stripe event.")
    return event


def _is_text(value: Any, max_chars: int | None) -> bool:
    return isinstance(value, str) and 0 < len(value) <= (max_chars or 0) and value.isprintable()


def _is_event(event: Any, *, may_hold_nul: bool = True) -> bool:
    """A Stripe event that can be recorded: an id and type that fit `ProviderEvent`, printable;
    `data.object` an object; no NUL anywhere (PostgreSQL's jsonb refuses it).

    `may_hold_nul=False` when the raw body has no `\\u0000` escape: strict JSON has no other way
    to put a NUL in a string or key (a raw control character in one is a parse error), so the
    walk over every node is skipped."""
    if not isinstance(event, dict):
        return False
    data = event.get("data")
    return (
        _is_text(event.get("id"), ProviderEvent._meta.get_field("event_id").max_length)
        and _is_text(event.get("type"), ProviderEvent._meta.get_field("type").max_length)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
        and not (
            may_hold_nul and any(isinstance(node, str) and "\x00" in node for node, _ in json_nodes(event))
        )
    )
