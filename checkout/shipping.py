"""Shipping at checkout: which methods a buyer can choose, and what the payment session asks for.

- `shipping_methods_list`: the active methods, by position, optionally in one currency and for
  one country (a method naming no countries serves every country) — the public list and checkout
  read the same rule.
- `line_ships`: a line needs shipping unless its variant (else its product) says it does not.
- `checkout_options_for`: the session's extras for a priced cart. A cart with a line that ships,
  when active methods exist in its currency and `SHIPPING_COUNTRIES` is set, collects an address
  from those countries and offers the methods (at most `MAX_SHIPPING_OPTIONS`, the hosted payment
  page's limit, by position); a cart of only digital lines collects nothing. Promotion codes and
  automatic tax follow the settings `ALLOW_PROMOTION_CODES` and `AUTOMATIC_TAX`.

The payment page cannot narrow methods by the address it collects, so a method's countries
shape the public list; settlement notes an order whose chosen method does not serve its address.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from checkout.models import CartItem, ShippingMethod
from payments.interface import CheckoutOptions, ShippingOption

MAX_SHIPPING_OPTIONS = 5


def shipping_methods_list(*, currency: str | None = None, country: str | None = None) -> list[ShippingMethod]:
    """Active methods by position; in `currency` and serving `country` when given."""
    methods = ShippingMethod.objects.filter(active=True).order_by("position", "id")
    if currency:
        methods = methods.filter(currency=currency.lower())
    return [method for method in methods if country is None or method.serves(country)]


def line_ships(item: CartItem) -> bool:
    """Whether the line needs shipping (its variant's `requires_shipping`, else its product's)."""
    own = item.variant.requires_shipping
    return item.product.requires_shipping if own is None else own


def checkout_options_for(items: Iterable[CartItem], currency: str) -> CheckoutOptions:
    """What the payment session asks for beyond the lines (see the module docstring)."""
    countries = tuple(settings.SHIPPING_COUNTRIES)
    ships = any(line_ships(item) for item in items)
    methods = shipping_methods_list(currency=currency) if countries and ships else []
    options = tuple(
        ShippingOption(
            ref=str(method.pk),
            name=method.name,
            amount=method.amount,
            min_days=method.min_days,
            max_days=method.max_days,
        )
        for method in methods[:MAX_SHIPPING_OPTIONS]
    )
    return CheckoutOptions(
        shipping_countries=countries if options else (),
        shipping_options=options,
        allow_promotion_codes=bool(settings.ALLOW_PROMOTION_CODES),
        automatic_tax=bool(settings.AUTOMATIC_TAX),
    )
