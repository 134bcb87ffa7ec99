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

from payments.interface import ShippingAddress

# The shipping rate metadata key naming our shipping method (payments/stripe/api.py sets it).
SHIPPING_METHOD_KEY = "shipping_method_id"
ADDRESS_PARTS = ("line1", "line2", "city", "state", "postal_code", "country")

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
    amount_subtotal: int | None = None
    # total_details: amount_shipping, amount_discount, amount_tax.
    amount_shipping: int = 0
    amount_discount: int = 0
    amount_tax: int = 0
    # shipping_cost.shipping_rate: its id, and (expanded) our method's id from its metadata.
    shipping_rate_id: str | None = None
    shipping_rate_expanded: bool = False
    shipping_method_ref: str | None = None
    # collected_information.shipping_details (API versions before 2025-03-31: shipping_details).
    shipping_address: ShippingAddress | None = None

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


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def _shipping_address(data: Mapping[str, Any]) -> ShippingAddress | None:
    """The collected shipping details: `collected_information.shipping_details` (SDK 16 / API
    2025-03-31 and later), else the session's older top-level `shipping_details`."""
    collected = data.get("collected_information") or {}
    details = (collected.get("shipping_details") if isinstance(collected, Mapping) else None) or data.get(
        "shipping_details"
    )
    if not isinstance(details, Mapping):
        return None
    address = details.get("address") or {}
    return ShippingAddress(
        name=str(details.get("name") or ""),
        **{part: str(address.get(part) or "") for part in ADDRESS_PARTS},
    )


def session_from_payload(data: Mapping[str, Any]) -> StripeSession:
    """Build a `StripeSession` from a Checkout Session JSON object (API answer or webhook)."""
    metadata = data.get("metadata") or {}
    amount = data.get("amount_total")
    totals = data.get("total_details") or {}
    rate = (data.get("shipping_cost") or {}).get("shipping_rate")
    rate_metadata = (rate.get("metadata") or {}) if isinstance(rate, Mapping) else {}
    return StripeSession(
        amount_subtotal=_int_or_none(data.get("amount_subtotal")),
        amount_shipping=int(totals.get("amount_shipping") or 0),
        amount_discount=int(totals.get("amount_discount") or 0),
        amount_tax=int(totals.get("amount_tax") or 0),
        shipping_rate_id=id_of(rate),
        shipping_rate_expanded=isinstance(rate, Mapping),
        shipping_method_ref=str(rate_metadata.get(SHIPPING_METHOD_KEY) or "") or None,
        shipping_address=_shipping_address(data),
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
