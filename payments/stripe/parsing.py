"""Stripe's JSON objects (API answers and webhook `data.object`) as small frozen dataclasses.

These keep Stripe's own vocabulary (`status`, `payment_status`, payment intents); the gateway
(`payments/stripe/gateway.py`) maps them onto the provider-neutral values of
`payments/interface.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# After a failed asynchronous payment Stripe leaves the session `complete` + `unpaid`; only its
# payment intent, back in one of these statuses, tells that the payment failed.
FAILED_PAYMENT_INTENT_STATUSES = frozenset({"requires_payment_method", "canceled"})


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

        This is how an order is settled as failed when its `checkout.session.async_payment_failed`
        webhook never arrived: the retrieved session's expanded payment intent tells.
        """
        return (
            self.status == "complete"
            and self.payment_status == "unpaid"
            and self.payment_intent_status in FAILED_PAYMENT_INTENT_STATUSES
        )


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    amount: int
    currency: str
    payment_intent_id: str | None
    charge_id: str | None
    failure_reason: str = ""


@dataclass(frozen=True)
class StripeCharge:
    """The parts of a `charge` object (`charge.refunded` webhook) shopapi uses."""

    id: str
    amount: int
    amount_refunded: int
    currency: str
    payment_intent_id: str | None
    refunded: bool


def _aware(timestamp: Any) -> datetime | None:
    if timestamp in (None, ""):
        return None
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def id_of(value: Any) -> str | None:
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
        payment_intent_id=id_of(data.get("payment_intent")),
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
        payment_intent_id=id_of(data.get("payment_intent")),
        refunded=bool(data.get("refunded")),
    )


def refund_from_payload(data: Mapping[str, Any]) -> StripeRefund:
    return StripeRefund(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or "").lower(),
        payment_intent_id=id_of(data.get("payment_intent")),
        charge_id=id_of(data.get("charge")),
        failure_reason=str(data.get("failure_reason") or ""),
    )
