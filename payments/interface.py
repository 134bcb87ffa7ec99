"""What checkout code sees of a payment provider: neutral values, the gateway protocol, its errors.

Checkout never imports a provider's SDK and never compares a provider's strings. A provider
package under `payments/` turns its API answers and webhook events into the values
below, and `gateway()` returns the provider named by `settings.PAYMENT_GATEWAY`. Adding a
provider means writing one class that satisfies `PaymentGateway`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import status

from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError


class SessionState(enum.StrEnum):
    """Where a hosted payment session stands, whatever the provider calls it."""

    OPEN = "open"  # payable
    PAID = "paid"  # the money is taken
    PROCESSING = "processing"  # the buyer finished; a delayed payment method has not settled yet
    FAILED = "failed"  # the delayed payment failed: this session will never be paid
    EXPIRED = "expired"  # closed unpaid


@dataclass(frozen=True)
class LineItem:
    """One priced line of a payment session, in minor units."""

    name: str
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class ShippingOption:
    """One way to ship the order, offered on the payment page (`ref` is our method's id)."""

    ref: str
    name: str
    amount: int
    min_days: int | None = None
    max_days: int | None = None


@dataclass(frozen=True)
class CheckoutOptions:
    """What a payment session asks for beyond its lines. Kept on the order as `as_dict()`, so
    every attempt to create its session sends the same parameters."""

    shipping_countries: tuple[str, ...] = ()  # collect a shipping address from these (none: don't)
    shipping_options: tuple[ShippingOption, ...] = ()
    allow_promotion_codes: bool = False
    automatic_tax: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CheckoutOptions:
        data = data or {}
        return cls(
            shipping_countries=tuple(data.get("shipping_countries") or ()),
            shipping_options=tuple(ShippingOption(**option) for option in data.get("shipping_options") or ()),
            allow_promotion_codes=bool(data.get("allow_promotion_codes")),
            automatic_tax=bool(data.get("automatic_tax")),
        )


@dataclass(frozen=True)
class ShippingAddress:
    """Where the buyer asked the order to be shipped, as the payment page collected it."""

    name: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class PaymentSession:
    """A hosted payment session, as retrieved or as a webhook reported it.

    Amounts as the provider computed them: `amount_total` = `amount_subtotal` (the lines) +
    `amount_shipping` − `amount_discount` + `amount_tax`. A provider without those parts leaves
    `amount_subtotal` None (the total is then the lines' sum).
    """

    id: str
    state: SessionState
    amount_total: int | None
    currency: str
    order_ref: str | None  # the order id the session was created for
    payment_id: str | None = None  # the provider's payment, once there is one (refunds use it)
    url: str | None = None
    expires_at: datetime | None = None
    amount_subtotal: int | None = None
    amount_shipping: int = 0
    amount_discount: int = 0
    amount_tax: int = 0
    shipping_rate_id: str | None = None  # the provider's id of the chosen shipping option
    shipping_ref: str | None = None  # its `ShippingOption.ref` (our method's id), when known
    shipping_address: ShippingAddress | None = None


class RefundStatus(enum.StrEnum):
    """Where a refund stands: only a succeeded one has given money back."""

    PENDING = "pending"  # accepted, not final yet (it may still fail)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # no money went back (a refund can also fail after succeeding)


@dataclass(frozen=True)
class Refund:
    id: str
    status: RefundStatus
    amount: int
    currency: str
    payment_id: str | None
    failure_reason: str = ""


@dataclass(frozen=True)
class PaymentRefunded:
    """The provider's word that a payment has `amount_refunded` refunded in total."""

    payment_id: str | None
    amount_refunded: int


@dataclass(frozen=True)
class Notification:
    """A verified webhook event in neutral terms: about a session, about refunds, or neither."""

    event_id: str
    type: str  # the provider's event type, kept for the record
    payload: dict[str, Any]
    session: PaymentSession | None = None
    refund: Refund | None = None  # one refund, as it stands now
    refunded: PaymentRefunded | None = None  # a payment's refunds changed (read them anew)


@dataclass(frozen=True)
class EventReferences:
    """What a stored event points at, for the back-office: the order id and/or the payment id."""

    order_ref: str | None
    payment_id: str | None


# --------------------------------------------------------------------------- errors


class SessionNotOpen(Exception):
    """The provider refused to close a session because it is no longer open."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"Payment session {session_id} is not open.")


class RefundRefused(DomainError):
    """The provider refused a refund for a business reason (already refunded, amount too large)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.REFUND_REFUSED
    default_message = "The payment provider refused the refund."

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, code=code)


class WebhookSignatureInvalid(DomainError):
    """A webhook whose signature is missing, forged or too old, or whose body is no event."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = ErrorCode.INVALID_SIGNATURE
    default_message = "Missing, forged or stale webhook signature."


# --------------------------------------------------------------------------- the gateway


class PaymentGateway(Protocol):
    """Everything shopapi asks of a payment provider. Every call is bounded by a short timeout
    and raises `PaymentProviderError` / `PaymentProviderUnavailable` when the provider fails."""

    slug: str  # the webhook URL segment: /api/v1/payments/<slug>/webhook/
    display_name: str  # how staff and customers see the provider named
    signature_header: str  # the HTTP header carrying the webhook signature
    # The provider's own names for its session and payment ids, as staff know them from its
    # dashboard (CSV export columns, admin labels).
    session_id_name: str
    payment_id_name: str

    def session_lifetime(self, requested: timedelta) -> timedelta:
        """`requested`, kept inside the lifetimes the provider accepts."""
        ...

    def minimum_charge(self, settlement_currency: str) -> int | None:
        """The smallest charge the provider accepts, in minor units of the account's settlement
        currency (None when it publishes none for that currency)."""
        ...

    def session_create(
        self,
        *,
        order_ref: str,
        order_number: str,
        line_items: Sequence[LineItem],
        currency: str,
        customer_email: str | None,
        expires_at: datetime,
        idempotency_key: str,
        options: CheckoutOptions | None = None,
    ) -> PaymentSession:
        """Open a payable session for one order; the same key never opens a second one.
        `options`: shipping address and options, promotion codes, tax (none by default)."""
        ...

    def session_retrieve(self, *, session_id: str) -> PaymentSession:
        """The session's current state."""
        ...

    def session_expire(self, *, session_id: str) -> PaymentSession:
        """Make an open session unpayable; `SessionNotOpen` when it is no longer open."""
        ...

    def refund_create(
        self, *, payment_id: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> Refund:
        """Refund `amount` minor units of a payment; `RefundRefused` when the provider says no."""
        ...

    def refunds_list(self, *, payment_id: str) -> list[Refund]:
        """Every refund of a payment, as it stands now."""
        ...

    def webhook_parse(self, *, payload: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify a webhook delivery over its raw body; `WebhookSignatureInvalid` otherwise."""
        ...

    def event_references(self, payload: Mapping[str, Any]) -> EventReferences:
        """What a stored event's payload is about (for the back-office)."""
        ...


@lru_cache(maxsize=4)
def _gateway_for(path: str) -> PaymentGateway:
    gateway_class = import_string(path)
    instance: PaymentGateway = gateway_class()
    return instance


def gateway() -> PaymentGateway:
    """The configured payment provider (`settings.PAYMENT_GATEWAY`, a dotted class path)."""
    return _gateway_for(str(settings.PAYMENT_GATEWAY))
