"""The only module that imports `stripe`: small typed calls returning frozen dataclasses.

Services never see SDK objects or SDK exceptions. Every call reads its settings at call time
(`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`, `STRIPE_TIMEOUT_SECONDS`, `STRIPE_MAX_NETWORK_RETRIES`),
so tests can point it at fakestripe with the `settings` fixture. Stripe errors become ours:

- connection refused, timeout, rate limit, "a request with this idempotency key is still in
  progress" (409) → `PaymentProviderUnavailable` (503, `payment_provider_unavailable`);
- authentication / permission → `PaymentProviderError` (502, `payment_provider_misconfigured`);
- anything else Stripe answers → `PaymentProviderError` (502, `payment_provider_error`).

The API key and card data are never logged: only the operation, the error class, the HTTP
status, Stripe's error code and its request id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from rest_framework import status

from shopapi.exceptions import DomainError, PaymentProviderError, PaymentProviderUnavailable

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class LineItem:
    """One priced line sent to Stripe (`price_data`), in minor units."""

    name: str
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class StripeSession:
    """What shopapi needs from a Checkout Session, whether retrieved or from a webhook."""

    id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int | None
    currency: str
    client_reference_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    payment_intent_id: str | None = None
    url: str | None = None
    expires_at: datetime | None = None
    # Known only when the payment intent came expanded (retrieve asks for it; webhooks don't carry it).
    payment_intent_status: str | None = None

    @property
    def order_id(self) -> str | None:
        """The shopapi order this session was created for (client_reference_id, else metadata)."""
        return self.client_reference_id or self.metadata.get("order_id") or None

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"

    @property
    def async_payment_failed(self) -> bool:
        """Complete but unpaid, and the delayed payment behind it has failed.

        After a failed asynchronous payment Stripe leaves the session `complete` + `unpaid`;
        only its payment intent tells the story (`requires_payment_method` or `canceled`). This
        is how confirm, cancel, checkout and reconciliation settle an order whose
        `checkout.session.async_payment_failed` webhook never arrived.
        """
        return (
            self.status == "complete"
            and self.payment_status == "unpaid"
            and self.payment_intent_status in {"requires_payment_method", "canceled"}
        )


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str
    amount: int
    currency: str
    payment_intent_id: str | None
    charge_id: str | None


@dataclass(frozen=True)
class StripeCharge:
    """The parts of a `charge` object (`charge.refunded` webhook) shopapi uses."""

    id: str
    amount: int
    amount_refunded: int
    currency: str
    payment_intent_id: str | None
    refunded: bool


# --------------------------------------------------------------------------- errors


class SessionNotOpen(Exception):
    """Stripe refused to expire a Checkout Session because it is already complete or expired."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"Checkout Session {session_id} is not open.")


class RefundRefused(DomainError):
    """Stripe refused a refund for a business reason (already refunded, amount too large)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "refund_refused"
    default_message = "The payment provider refused the refund."

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class WebhookSignatureInvalid(DomainError):
    """A webhook whose `Stripe-Signature` is missing, forged or too old."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_signature"
    default_message = "Missing, forged or stale Stripe-Signature."


_REFUND_REFUSAL_CODES = frozenset({"charge_already_refunded", "amount_too_large"})


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
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return PaymentProviderUnavailable()
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentProviderError(
            "The payment provider rejected our credentials.", code="payment_provider_misconfigured"
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


# --------------------------------------------------------------------------- client


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


# --------------------------------------------------------------------------- parsing


def _aware(timestamp: Any) -> datetime | None:
    if timestamp in (None, ""):
        return None
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def _id_of(value: Any) -> str | None:
    """An expandable field: a string id, an expanded object (dict) or null."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        inner = value.get("id")
        return str(inner) if inner else None
    return str(value)


def _expanded_status(value: Any) -> str | None:
    """The `status` of an expanded object (None when the field is a bare id or null)."""
    if isinstance(value, Mapping):
        inner = value.get("status")
        return str(inner) if inner else None
    return None


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


def session_from_payload(data: Mapping[str, Any]) -> StripeSession:
    """Build a `StripeSession` from a Checkout Session JSON object (API answer or webhook)."""
    metadata = data.get("metadata") or {}
    amount = data.get("amount_total")
    return StripeSession(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        amount_total=int(amount) if amount is not None else None,
        currency=str(data.get("currency") or "").lower(),
        client_reference_id=data.get("client_reference_id") or None,
        metadata={str(k): str(v) for k, v in dict(metadata).items()},
        payment_intent_id=_id_of(data.get("payment_intent")),
        url=data.get("url") or None,
        expires_at=_aware(data.get("expires_at")),
        payment_intent_status=_expanded_status(data.get("payment_intent")),
    )


def charge_from_payload(data: Mapping[str, Any]) -> StripeCharge:
    """Build a `StripeCharge` from a charge JSON object (the `charge.refunded` webhook)."""
    return StripeCharge(
        id=str(data["id"]),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=str(data.get("currency") or "").lower(),
        payment_intent_id=_id_of(data.get("payment_intent")),
        refunded=bool(data.get("refunded")),
    )


def _refund_from_payload(data: Mapping[str, Any]) -> StripeRefund:
    return StripeRefund(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or "").lower(),
        payment_intent_id=_id_of(data.get("payment_intent")),
        charge_id=_id_of(data.get("charge")),
    )


# --------------------------------------------------------------------------- calls


def checkout_session_create(
    *,
    order_id: str,
    order_number: str,
    line_items: Sequence[LineItem],
    currency: str,
    customer_email: str | None,
    expires_at: datetime,
    idempotency_key: str,
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
    with _stripe_errors("checkout_session_create"):
        session = _client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    return session_from_payload(_as_dict(session))


def checkout_session_retrieve(*, session_id: str) -> StripeSession:
    """The current state of a Checkout Session, with its payment intent's status."""
    with _stripe_errors("checkout_session_retrieve"):
        session = _client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["payment_intent"]})
    return session_from_payload(_as_dict(session))


def checkout_session_expire(*, session_id: str) -> StripeSession:
    """Expire an open session so it can no longer be paid; `SessionNotOpen` if it is not open."""
    try:
        session = _client().v1.checkout.sessions.expire(session_id)
    except stripe.InvalidRequestError as exc:
        # Stripe answers a plain 400 (no error code) for "only open sessions can be expired".
        # Any 400 other than an unknown session is read that way: callers then retrieve the
        # session and act on its real status (and fail loudly if it turns out to be open).
        if exc.http_status == status.HTTP_400_BAD_REQUEST and exc.code != "resource_missing":
            raise SessionNotOpen(session_id) from exc
        _log_stripe_error("checkout_session_expire", exc)
        raise _translate(exc) from exc
    except stripe.StripeError as exc:
        _log_stripe_error("checkout_session_expire", exc)
        raise _translate(exc) from exc
    return session_from_payload(_as_dict(session))


def checkout_sessions_list(*, limit: int = 100) -> list[StripeSession]:
    """The newest Checkout Sessions (one page), newest first."""
    with _stripe_errors("checkout_sessions_list"):
        page = _client().v1.checkout.sessions.list({"limit": limit})
    return [session_from_payload(_as_dict(item)) for item in page.data]


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
    try:
        refund = _client().v1.refunds.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    except stripe.InvalidRequestError as exc:
        if exc.code in _REFUND_REFUSAL_CODES:
            raise RefundRefused(str(exc.code), str(exc.user_message or exc.code)) from exc
        _log_stripe_error("refund_create", exc)
        raise _translate(exc) from exc
    except stripe.StripeError as exc:
        _log_stripe_error("refund_create", exc)
        raise _translate(exc) from exc
    return _refund_from_payload(_as_dict(refund))


def webhook_event_construct(*, payload: bytes, sig_header: str | None) -> dict[str, Any]:
    """Verify `Stripe-Signature` over the raw body (tolerance from settings) and parse the event.

    Same check as `stripe.Webhook.construct_event`, but it returns the plain JSON dict: the
    handlers read `data.object` through the parsers above, never through SDK objects.
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
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(str(exc.user_message or "Invalid signature.")) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookSignatureInvalid("The webhook body is not valid JSON.") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookSignatureInvalid("The webhook body is not a Stripe event.")
    return event
