"""Checkout: turn the caller's cart into one pending order with exactly one payable Stripe session.

Why a cart can never hold two payable sessions:
- the whole flow runs under the cart's row lock (`cart_for_update`), so checkouts of one cart
  (double clicks, retries, a second device) run one after the other;
- an existing pending order with the same content and enough session time left is handed out
  again (200) instead of creating anything;
- a pending order with other content has its session expired at Stripe *before* a new one is
  created; if Stripe says that session was already paid, the order is fulfilled and the
  checkout stops with 409 instead of opening a second session;
- the database allows one pending order per cart, and the session is created with the
  idempotency key `checkout:{order.id}`, so an SDK retry cannot create a second one.

The Stripe call is the only slow thing under the lock; it has a short timeout. When it fails, the
new order is kept as `failed` with an event (the transaction commits), the cart stays open, and
the mapped 502/503 error is raised after the commit. A retry creates a fresh order and session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout import stripe_gateway
from checkout.locks import cart_for_update
from checkout.models import Cart, CartItem, Order, OrderEvent, OrderItem
from checkout.services.orders import SessionCloseOutcome, order_session_close
from checkout.states import order_transition
from shopapi.exceptions import ConflictError, DomainError, PaymentProviderError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

logger = logging.getLogger(__name__)

S = Order.Status

# Order numbers: "SA-" + 8 characters without look-alikes (0/O, 1/I/L), ~40 bits of randomness.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ORDER_NUMBER_LENGTH = 8
ORDER_NUMBER_ATTEMPTS = 5

# Stripe refuses `expires_at` sooner than 30 minutes after creation; keep a margin for clock skew
# between us and Stripe so a 30-minute TTL never fails.
STRIPE_MIN_SESSION_SECONDS = 30 * 60
STRIPE_MAX_SESSION_SECONDS = 24 * 60 * 60
CLOCK_SKEW_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    created: bool


def order_number_generate() -> str:
    """A random human-readable order number such as `SA-7K3F9Q2M`."""
    body = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_LENGTH))
    return f"SA-{body}"


def cart_fingerprint(lines: list[CartItem]) -> str:
    """sha256 over the sorted (product_id, quantity, unit_amount, currency) of every line."""
    parts = sorted(
        (line.product_id, line.quantity, line.product.unit_amount, line.product.currency) for line in lines
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _session_ttl() -> timedelta:
    """The session lifetime: the setting, kept inside Stripe's 30 min – 24 h window with a margin."""
    seconds = int(settings.CHECKOUT_SESSION_TTL_MINUTES) * 60
    seconds = max(seconds, STRIPE_MIN_SESSION_SECONDS + CLOCK_SKEW_MARGIN_SECONDS)
    return timedelta(seconds=min(seconds, STRIPE_MAX_SESSION_SECONDS - CLOCK_SKEW_MARGIN_SECONDS))


def _validate_lines(lines: list[CartItem]) -> tuple[str, int]:
    """(currency, total) of the lines, or a 400 naming what is wrong."""
    if not lines:
        raise DomainError("The cart is empty.", code="cart_empty")
    inactive = [line.product.name for line in lines if not line.product.is_active]
    if inactive:
        raise DomainError(
            f"These products are no longer available: {', '.join(inactive)}.", code="product_unavailable"
        )
    currencies = {line.product.currency for line in lines}
    if len(currencies) != 1:
        raise DomainError("The cart mixes currencies.", code="currency_mismatch")
    total = sum(line.product.unit_amount * line.quantity for line in lines)
    if total > int(settings.MAX_ORDER_AMOUNT):
        raise DomainError("The order total is larger than we can charge.", code="order_too_large")
    if total < int(settings.MIN_ORDER_AMOUNT):
        message = "The order total is below the smallest amount Stripe charges."
        raise DomainError(message, code="order_too_small")
    return currencies.pop(), total


def _order_create(
    *, cart: Cart, user_id: int, lines: list[CartItem], currency: str, total: int, fingerprint: str
) -> Order:
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        order = Order(
            number=order_number_generate(),
            user_id=user_id,
            cart=cart,
            status=S.PENDING,
            currency=currency,
            total_amount=total,
            content_fingerprint=fingerprint,
        )
        try:
            with transaction.atomic():  # savepoint: a number collision must not doom the checkout
                order.save(force_insert=True)
        except IntegrityError:
            if Order.objects.filter(cart=cart, status=S.PENDING).exists():
                raise
            continue
        OrderItem.objects.bulk_create(
            [
                OrderItem(
                    order=order,
                    product_id=line.product_id,
                    name=line.product.name,
                    unit_amount=line.product.unit_amount,
                    quantity=line.quantity,
                    line_total=line.product.unit_amount * line.quantity,
                )
                for line in lines
            ]
        )
        return order
    raise ConflictError("Could not allocate an order number; retry.", code="order_number_exhausted")


def _supersede(order: Order) -> ConflictError | None:
    """Close the pending order's session before a new one is opened.

    Returns the error to raise *after* commit when the old session turned out paid (the
    fulfilment must be kept); raises directly when nothing was written.
    """
    outcome = order_session_close(order=order, source=OrderEvent.Source.API)
    if outcome is SessionCloseOutcome.PAID:
        return ConflictError("This cart was paid already; its order is now paid.", code="cart_already_paid")
    if outcome is SessionCloseOutcome.PROCESSING:
        raise ConflictError(
            "A payment for this cart is being processed; wait for it to finish.",
            code="payment_in_progress",
        )
    if outcome is SessionCloseOutcome.FAILED:
        return None  # its async payment failed: the order is failed, the session unpayable
    if outcome is SessionCloseOutcome.ALREADY_EXPIRED:
        order_transition(
            order_id=order.pk,
            to_status=S.EXPIRED,
            source=OrderEvent.Source.API,
            message="its Stripe session had expired",
        )
    else:
        order_transition(
            order_id=order.pk,
            to_status=S.CANCELLED,
            source=OrderEvent.Source.API,
            message="superseded by a new checkout",
        )
    return None


def checkout_start(*, cart_id: UUID, user: AbstractBaseUser | AnonymousUser) -> CheckoutResult:
    """Start (or resume) the checkout of the caller's cart; see the module docstring."""
    deferred: DomainError | None = None
    result: CheckoutResult | None = None
    with transaction.atomic(durable=True):
        cart = cart_for_update(cart_id=cart_id, user=user)
        if cart.status != Cart.Status.OPEN:
            raise ConflictError("This cart is already checked out.", code="cart_not_open")
        lines = list(CartItem.objects.filter(cart=cart).select_related("product").order_by("id"))
        currency, total = _validate_lines(lines)
        fingerprint = cart_fingerprint(lines)
        now = timezone.now()

        existing = Order.objects.select_for_update().filter(cart=cart, status=S.PENDING).first()
        if existing is not None:
            min_left = timedelta(seconds=int(settings.CHECKOUT_SESSION_MIN_REMAINING_SECONDS))
            if (
                existing.content_fingerprint == fingerprint
                and existing.stripe_session_id
                and existing.session_expires_at is not None
                and existing.session_expires_at > now + min_left
            ):
                return CheckoutResult(order=existing, created=False)
            deferred = _supersede(existing)

        if deferred is None:
            order = _order_create(
                cart=cart,
                user_id=int(str(user.pk)),
                lines=lines,
                currency=currency,
                total=total,
                fingerprint=fingerprint,
            )
            try:
                session = stripe_gateway.checkout_session_create(
                    order_id=str(order.pk),
                    order_number=order.number,
                    line_items=[
                        stripe_gateway.LineItem(
                            name=line.product.name,
                            unit_amount=line.product.unit_amount,
                            quantity=line.quantity,
                        )
                        for line in lines
                    ],
                    currency=currency,
                    customer_email=getattr(user, "email", "") or None,
                    expires_at=timezone.now() + _session_ttl(),
                    idempotency_key=f"checkout:{order.pk}",
                )
            except PaymentProviderError as exc:
                order_transition(
                    order_id=order.pk,
                    to_status=S.FAILED,
                    source=OrderEvent.Source.API,
                    message=f"creating the Stripe session failed: {exc.code}",
                )
                deferred = exc  # raised after commit: the failed order is kept, the cart stays open
            else:
                order.stripe_session_id = session.id
                order.checkout_url = session.url or ""
                order.session_expires_at = session.expires_at
                Order.objects.filter(pk=order.pk).update(
                    stripe_session_id=session.id,
                    checkout_url=order.checkout_url,
                    session_expires_at=session.expires_at,
                    updated_at=timezone.now(),
                )
                result = CheckoutResult(order=order, created=True)
    if deferred is not None:
        raise deferred
    assert result is not None
    return result
