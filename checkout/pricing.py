"""Pricing: what cart lines cost at current prices, and every limit on quantities and amounts.

The one home of `unit_amount × quantity`, the single-currency rule, the per-line quantity
ceiling and the order minimum and maximum. The cart serializer, the cart services and the
checkout all price and check through here, so a new limit on carts is one function here and
one call where it applies. Prices are never taken from the client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import checks

from catalog.money import currency_decimals, format_money
from checkout.models import QUANTITY_HARD_LIMIT, CartItem
from payments.interface import gateway
from shopapi.errors import ErrorCode
from shopapi.exceptions import DomainError

logger = logging.getLogger(__name__)


def max_quantity() -> int:
    """The per-line quantity ceiling the API enforces (never above the database's)."""
    return min(int(settings.CART_MAX_QUANTITY), QUANTITY_HARD_LIMIT)


def line_total(unit_amount: int, quantity: int) -> int:
    return unit_amount * quantity


@dataclass(frozen=True)
class PricedLine:
    """One line priced at its variant's current price (what checkout snapshots)."""

    item_id: int
    product_id: int
    variant_id: int
    name: str
    sku: str
    variant_title: str  # empty for a product's only, option-less variant
    unit_amount: int
    currency: str
    quantity: int
    line_total: int
    is_active: bool

    @property
    def label(self) -> str:
        """What the buyer sees on the payment page: the product, and the variant when it has options."""
        return f"{self.name} ({self.variant_title})" if self.variant_title else self.name


@dataclass(frozen=True)
class PricedCart:
    """Cart lines at current product prices.

    `item_count` is the sum of line quantities (what a cart badge shows), not the number of
    lines. `currency` is the lines' currency, or `settings.DEFAULT_CURRENCY` without lines.
    """

    total_amount: int
    currency: str
    item_count: int
    lines: tuple[PricedLine, ...]

    @property
    def currencies(self) -> frozenset[str]:
        """Every currency among the lines; more than one only if staff changed a product's currency."""
        return frozenset(line.currency for line in self.lines)


def price_line(item: CartItem) -> PricedLine:
    """Price one line at its variant's current price (the product and the variant must be loaded)."""
    product, variant = item.product, item.variant
    return PricedLine(
        item_id=item.pk,
        product_id=product.pk,
        variant_id=variant.pk,
        name=product.name,
        sku=variant.sku,
        variant_title=variant.display_title if (variant.options or variant.title) else "",
        unit_amount=variant.unit_amount,
        currency=variant.currency,
        quantity=item.quantity,
        line_total=line_total(variant.unit_amount, item.quantity),
        is_active=product.is_active and variant.is_active,
    )


def price_cart(items: Iterable[CartItem]) -> PricedCart:
    """Pure: lines whose products are loaded (prefetched) cost no queries."""
    lines = tuple(price_line(item) for item in items)
    total_amount, currency, item_count = cart_totals(
        [(line.unit_amount, line.quantity, line.currency) for line in lines]
    )
    return PricedCart(total_amount=total_amount, currency=currency, item_count=item_count, lines=lines)


def cart_totals(lines: Sequence[tuple[int, int, str]]) -> tuple[int, str, int]:
    """(total_amount, currency, item_count) of lines given as (unit_amount, quantity, currency):
    what `PricedCart` says (the cart answers read their lines as plain rows:
    checkout/serializers/cart_json.py)."""
    return (
        sum(line_total(unit_amount, quantity) for unit_amount, quantity, _ in lines),
        lines[0][2] if lines else str(settings.DEFAULT_CURRENCY),
        sum(quantity for _, quantity, _ in lines),
    )


# --------------------------------------------------------------------------- limits


def check_quantity(quantity: Any) -> None:
    """A quantity asked for by the client: an integer 1..max_quantity(), else a 400 on `quantity`."""
    maximum = max_quantity()
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError("Quantity must be an integer.", code=ErrorCode.INVALID_QUANTITY, field="quantity")
    if quantity < 1:
        raise DomainError("Quantity must be at least 1.", code=ErrorCode.INVALID_QUANTITY, field="quantity")
    if quantity > maximum:
        raise DomainError(
            f"Quantity must be at most {maximum} per line.",
            code=ErrorCode.QUANTITY_TOO_LARGE,
            field="quantity",
        )


def check_line_quantity(new_quantity: int) -> None:
    """What a line would hold after adding to it must stay within the ceiling."""
    if new_quantity > max_quantity():
        raise DomainError(
            f"This line would hold {new_quantity}; at most {max_quantity()} per line.",
            code=ErrorCode.QUANTITY_TOO_LARGE,
            field="quantity",
        )


def check_currency(*, what: str, currency: str, cart: PricedCart, field: str = "product_id") -> None:
    """A product joins a cart only in the currency of the cart's lines (`what` names it)."""
    if cart.currencies and cart.currencies != {currency}:
        raise DomainError(
            f"{what} is priced in {currency}; this cart is in {', '.join(sorted(cart.currencies))}.",
            code=ErrorCode.CURRENCY_MISMATCH,
            field=field,
        )


def check_amounts(*, unit_amount: int, quantity: int, other_lines_total: int) -> None:
    """A line total, and the cart total with it, must stay within the largest order amount."""
    maximum = int(settings.MAX_ORDER_AMOUNT)
    total = line_total(unit_amount, quantity)
    if total > maximum:
        raise DomainError(
            f"This line would total {total}, above the maximum order amount of {maximum}.",
            code=ErrorCode.LINE_TOTAL_TOO_LARGE,
            field="quantity",
        )
    if other_lines_total + total > maximum:
        raise DomainError(
            f"The cart would total {other_lines_total + total}, above the maximum order amount of {maximum}.",
            code=ErrorCode.CART_TOTAL_TOO_LARGE,
            field="quantity",
        )


def quantity_within_amounts(*, unit_amount: int, other_lines_total: int) -> int:
    """The most units of a line that keep it, and the cart with it, within the largest order amount
    (what `check_amounts` would accept; a merge caps a line there instead of refusing)."""
    room = int(settings.MAX_ORDER_AMOUNT) - max(other_lines_total, 0)
    return max(room, 0) // unit_amount if unit_amount > 0 else max_quantity()


def check_payable(cart: PricedCart) -> None:
    """What checkout needs before it asks for a payment: lines, all for sale, one currency, a
    total between the smallest and the largest amount the payment provider charges."""
    if not cart.lines:
        raise DomainError("The cart is empty.", code=ErrorCode.CART_EMPTY)
    inactive = [line.label for line in cart.lines if not line.is_active]
    if inactive:
        raise DomainError(
            f"These products are no longer available: {', '.join(inactive)}.",
            code=ErrorCode.PRODUCT_UNAVAILABLE,
        )
    if len(cart.currencies) != 1:
        raise DomainError("The cart mixes currencies.", code=ErrorCode.CURRENCY_MISMATCH)
    if cart.total_amount > int(settings.MAX_ORDER_AMOUNT):
        raise DomainError("The order total is larger than we can charge.", code=ErrorCode.ORDER_TOO_LARGE)
    if len(cart.lines) > max_lines():
        raise DomainError(
            f"The cart has {len(cart.lines)} lines; at most {max_lines()} can be paid in one order.",
            code=ErrorCode.CART_TOO_MANY_LINES,
        )
    minimum = minimum_charge(cart.currency)
    if cart.total_amount < minimum:
        raise DomainError(
            f"The order total is below {format_money(minimum, cart.currency)}, the smallest amount "
            "the payment provider charges.",
            code=ErrorCode.ORDER_TOO_SMALL,
        )


def max_lines() -> int:
    """How many distinct lines a cart may hold (the provider's limit on one payment's lines)."""
    return int(settings.CART_MAX_LINES)


def check_line_count(*, lines: int, what: str, field: str = "product_id") -> None:
    """A new line must not take the cart past `max_lines()` (`what` names what was added)."""
    if lines + 1 > max_lines():
        raise DomainError(
            f"The cart already has {lines} lines; at most {max_lines()}: "
            f"{what} can't be added as a new line.",
            code=ErrorCode.CART_TOO_MANY_LINES,
            field=field,
        )


def minimum_charge(currency: str) -> int:
    """The smallest order total in `currency` (minor units) the payment provider is sure to accept.

    The provider's minimum is set in the account's settlement currency
    (`PAYMENT_SETTLEMENT_CURRENCY`); an order in another currency is converted with
    `PAYMENT_FX_RATES_USD` and must clear it by `PAYMENT_FX_MARGIN_PERCENT` more, so a moved rate
    never lets through an order the provider would refuse. Never below `MIN_ORDER_AMOUNT`.
    """
    floor = int(settings.MIN_ORDER_AMOUNT)
    settlement = str(settings.PAYMENT_SETTLEMENT_CURRENCY)
    minimum = gateway().minimum_charge(settlement)
    if minimum is None:
        return floor
    if currency == settlement:
        return max(floor, minimum)
    rates: dict[str, float] = settings.PAYMENT_FX_RATES_USD
    if currency not in rates or settlement not in rates:
        logger.warning("no rate to convert %s to %s; only MIN_ORDER_AMOUNT applies", currency, settlement)
        return floor
    in_usd = Decimal(minimum).scaleb(-currency_decimals(settlement)) * Decimal(str(rates[settlement]))
    margin = 1 + Decimal(int(settings.PAYMENT_FX_MARGIN_PERCENT)) / 100
    in_currency = in_usd / Decimal(str(rates[currency])) * margin
    return max(floor, math.ceil(in_currency.scaleb(currency_decimals(currency))))


@checks.register()
def check_quantity_setting(**kwargs: Any) -> list[checks.CheckMessage]:
    """A warning when CART_MAX_QUANTITY is above what the database allows (it is capped there)."""
    if int(settings.CART_MAX_QUANTITY) > QUANTITY_HARD_LIMIT:
        return [
            checks.Warning(
                f"CART_MAX_QUANTITY={settings.CART_MAX_QUANTITY} is above the database's ceiling of "
                f"{QUANTITY_HARD_LIMIT} per line; the API enforces {QUANTITY_HARD_LIMIT}.",
                id="checkout.W001",
            )
        ]
    return []
