"""Checkout: turn the caller's cart into one pending order with exactly one payable session.

Why a cart can never hold two payable sessions:
- the whole flow runs under the cart's row lock (`lock_owned_cart`), so checkouts of one cart
  (double clicks, retries, a second device) run one after the other;
- an existing pending order with the same content and enough session time left is handed out
  again (200) instead of creating anything;
- a pending order with other content has its session closed at the provider *before* a new one
  is created (`order_session_close`); if the provider says it was already paid, the order is
  settled as paid and the checkout stops with 409 instead of opening a second session;
- the database allows one pending order per cart, and the session is created with the
  idempotency key `checkout:{order.id}`, so a network retry cannot create a second one.

Stock (catalog/stock.py): after the cart and its pending order, the variants of both are locked
in id order; a cart asking for more than is available is refused (409 `insufficient_stock`
naming each short line) before anything is closed or created, and the new order holds its
tracked lines (`stock_reserve`) until its session can no longer be paid.

Guest carts (checkout/ownership.py) check out the same way into a guest order: it needs the
buyer's `email` (400 naming `email` without one), stores it with no user, and keeps the hash of
its order token (checkout/tokens.py), which the answer shows. A user's order stores the user's
email. A pending guest order is handed out again only for the same content and the same email (a
corrected address supersedes it, so the payment page shows the right one).

Shipping, promotion codes and tax (checkout/shipping.py): what the session asks for beyond the
lines (`CheckoutOptions`: address countries, the shipping methods as options, codes, tax) is
decided from the cart, kept on the order (`checkout_options`, so every attempt to create its
session sends the same parameters) and part of the fingerprint: a change to any of it, like a
change to the lines, supersedes the pending order instead of reusing its session.

The provider call is the only slow thing under the lock; it has a short timeout. When the provider
answers with an error, the new order is kept as `failed` with an event (the transaction commits),
the cart stays open, the 502 is raised after the commit, and a retry creates a fresh order and
session. When it does not answer (a timeout), the session may exist: the order stays pending with
its session unclear (503), and the next checkout first sends the same create again with the same
key, getting the session the provider made (or making it, once) instead of a second one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import BaseUserManager
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from catalog.stock import StockLine, stock_check_lines, stock_reserve
from checkout import pricing
from checkout.locks import lock_orders, lock_variants
from checkout.models import Cart, CartItem, Order, OrderEvent, OrderItem
from checkout.ownership import Owner, OwnerLike, lock_owned_cart, owner_of
from checkout.services.settlement import (
    CloseReason,
    order_session_close,
    order_session_create,
    order_session_record,
    order_session_resolve,
    order_session_unclear,
)
from checkout.services.transitions import order_transition
from checkout.shipping import checkout_options_for
from checkout.states import PAID_STATUSES, OrderStatus
from checkout.tokens import order_token_hash
from payments.interface import CheckoutOptions, LineItem, SessionState, gateway
from shopapi.errors import ErrorCode
from shopapi.exceptions import ConflictError, DomainError, PaymentProviderError, PaymentProviderUnavailable

S = OrderStatus

# Order numbers: "SA-" + 8 characters without look-alikes (0/O, 1/I/L), ~40 bits of randomness.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ORDER_NUMBER_LENGTH = 8
ORDER_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    created: bool


def order_number_generate() -> str:
    """A random human-readable order number such as `SA-7K3F9Q2M`."""
    body = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_LENGTH))
    return f"SA-{body}"


def cart_fingerprint(cart: pricing.PricedCart, options: CheckoutOptions | None = None) -> str:
    """sha256 over the sorted (variant_id, quantity, unit_amount, currency) of every line, and
    everything else that changes what the session charges: the shipping options and their
    amounts, the countries, promotion codes and tax (`options`)."""
    parts = sorted((line.variant_id, line.quantity, line.unit_amount, line.currency) for line in cart.lines)
    extras = json.dumps(options.as_dict(), sort_keys=True) if options is not None else ""
    return hashlib.sha256((repr(parts) + extras).encode()).hexdigest()


def _order_create(
    *,
    cart: Cart,
    email: str,
    priced: pricing.PricedCart,
    options: CheckoutOptions,
    fingerprint: str,
    expires_at: datetime,
) -> Order:
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        order = Order(
            number=order_number_generate(),
            user_id=cart.user_id,
            email=email,
            cart=cart,
            status=S.PENDING,
            currency=priced.currency,
            total_amount=priced.total_amount,
            subtotal_amount=priced.total_amount,  # until settlement reports shipping, discount, tax
            checkout_options=options.as_dict(),
            content_fingerprint=fingerprint,
            session_expires_at=expires_at,  # what the session is asked for, the same on every attempt
        )
        if cart.user_id is None:  # a guest order: its token is derived from its id (checkout/tokens.py)
            order.token_hash = order_token_hash(order.pk)
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
                    variant_id=line.variant_id,
                    name=line.name,
                    sku=line.sku,
                    variant_title=line.variant_title,
                    unit_amount=line.unit_amount,
                    quantity=line.quantity,
                    line_total=line.line_total,
                )
                for line in priced.lines
            ]
        )
        return order
    raise ConflictError("Could not allocate an order number; retry.", code=ErrorCode.ORDER_NUMBER_EXHAUSTED)


def _supersede(order: Order) -> ConflictError | None:
    """Close the pending order's session before a new one is opened.

    Returns the error to raise *after* commit when the old session turned out paid (the
    settlement must be kept); raises directly when nothing was written.
    """
    outcome = order_session_close(order=order, source=OrderEvent.Source.API, reason=CloseReason.SUPERSEDED)
    if outcome is SessionState.PAID:
        return ConflictError(
            "This cart was paid already; its order is now paid.", code=ErrorCode.CART_ALREADY_PAID
        )
    if outcome is SessionState.PROCESSING:
        raise ConflictError(
            "A payment for this cart is being processed; wait for it to finish.",
            code=ErrorCode.PAYMENT_IN_PROGRESS,
        )
    return None  # closed (cancelled), or it had expired or failed: nothing payable is left


def _reusable(order: Order, fingerprint: str, email: str) -> bool:
    """Whether a pending order's session can be handed out again for this content (and, for a
    guest order, this email)."""
    min_left = timedelta(seconds=int(settings.CHECKOUT_SESSION_MIN_REMAINING_SECONDS))
    return (
        order.content_fingerprint == fingerprint
        and (order.user_id is not None or order.email == email)
        and bool(order.provider_session_id)
        and order.session_expires_at is not None
        and order.session_expires_at > timezone.now() + min_left
    )


def _order_email(cart: Cart, owner: Owner, email: str | None) -> str:
    """The address the order keeps: a guest's (required), or the cart's user's."""
    if cart.user_id is None:
        if not email:
            raise DomainError(
                "An email address is required to check out as a guest (the receipt goes there).",
                code=ErrorCode.VALIDATION_ERROR,
                field="email",
            )
        return BaseUserManager.normalize_email(email.strip())
    if owner.user_id == cart.user_id and owner.email:
        return owner.email
    return User.objects.filter(pk=cart.user_id).values_list("email", flat=True).first() or ""


def checkout_start(*, cart_id: UUID, owner: OwnerLike, email: str | None = None) -> CheckoutResult:
    """Start (or resume) the checkout of the caller's cart; see the module docstring.

    `email` is the guest's address (required for a guest cart; ignored for a user's cart).
    """
    deferred: DomainError | None = None
    result: CheckoutResult | None = None
    with transaction.atomic(durable=True):
        cart = lock_owned_cart(cart_id=cart_id, owner=owner)
        if cart.status != Cart.Status.OPEN:
            raise ConflictError("This cart is already checked out.", code=ErrorCode.CART_CHECKED_OUT)
        order_email = _order_email(cart, owner_of(owner), email)
        items = list(CartItem.objects.filter(cart=cart).select_related("product", "variant").order_by("id"))
        priced = pricing.price_cart(items)
        pricing.check_payable(priced)
        options = checkout_options_for(items, priced.currency)
        fingerprint = cart_fingerprint(priced, options)

        pending = lock_orders(Order.objects.filter(cart=cart, status=S.PENDING))  # one at most
        # Then the variants, all at once in id order: the cart's, and those the pending order holds
        # (closing it releases them), so no later step waits for a lower id.
        held = OrderItem.objects.filter(order__in=pending).values_list("variant_id", flat=True)
        variants = {v.pk: v for v in lock_variants([item.variant_id for item in items] + list(held))}
        stock_lines = [
            StockLine(variants[item.variant_id], item.quantity, f"items.{item.pk}.quantity") for item in items
        ]
        for existing in pending:
            order_session_resolve(order=existing, source=OrderEvent.Source.API)  # after a timeout
            if existing.status in PAID_STATUSES:
                deferred = ConflictError(
                    "This cart was paid already; its order is now paid.", code=ErrorCode.CART_ALREADY_PAID
                )
            elif existing.status != S.PENDING:
                continue  # its session failed or expired: nothing payable is left
            elif _reusable(existing, fingerprint, order_email):
                return CheckoutResult(order=existing, created=False)
            else:
                # Refuse a short cart before closing the session it would replace (nothing changes).
                stock_check_lines(stock_lines, excluding=[existing.pk])
                deferred = _supersede(existing)

        if deferred is None:
            result, deferred = _order_with_session(
                cart=cart,
                email=order_email,
                priced=priced,
                options=options,
                fingerprint=fingerprint,
                stock_lines=stock_lines,
            )
    if deferred is not None:
        raise deferred
    assert result is not None
    return result


def _order_with_session(
    *,
    cart: Cart,
    email: str,
    priced: pricing.PricedCart,
    options: CheckoutOptions,
    fingerprint: str,
    stock_lines: list[StockLine],
) -> tuple[CheckoutResult | None, DomainError | None]:
    """A new pending order and its payment session. When the provider answers with an error the
    order is `failed`; when it doesn't answer (a timeout) the order stays pending with its session
    unclear, resolved by the next checkout, cancel or reconciliation. Either way the error is
    returned, to raise after the commit."""
    lifetime = gateway().session_lifetime(timedelta(minutes=int(settings.CHECKOUT_SESSION_TTL_MINUTES)))
    expires_at = (timezone.now() + lifetime).replace(microsecond=0)
    order = _order_create(
        cart=cart, email=email, priced=priced, options=options, fingerprint=fingerprint, expires_at=expires_at
    )
    # Held until the session can no longer be paid; `InsufficientStock` rolls the order back.
    stock_reserve(order_id=order.pk, lines=stock_lines, expires_at=expires_at)
    line_items = [LineItem(line.label, line.unit_amount, line.quantity) for line in priced.lines]
    try:
        session = order_session_create(order=order, line_items=line_items)
    except PaymentProviderUnavailable as exc:
        order_session_unclear(order=order, source=OrderEvent.Source.API, what="creating the payment session")
        return None, exc  # pending, session unknown: never a second session for this order
    except PaymentProviderError as exc:
        order_transition(
            order_id=order.pk,
            to_status=S.FAILED,
            source=OrderEvent.Source.API,
            message=f"creating the payment session failed: {exc.code}",
        )
        return None, exc  # the failed order is kept, the cart stays open
    order_session_record(order=order, session=session)
    return CheckoutResult(order=order, created=True), None
