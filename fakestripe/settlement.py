"""Stripe's minimum charge per settlement currency, and fakestripe's own fixed conversion rates.

Stripe refuses a charge worth less than the minimum of the account's *settlement* currency,
whatever currency the charge is in ("Minimum and maximum charge amounts",
https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). fakestripe converts with
the approximate fixed rates below (its own table, not Stripe's live rates), so amounts close to
the minimum can answer differently from real Stripe.
"""

from __future__ import annotations

from fakestripe.errors import StripeError

# Smallest charge, in minor units of the settlement currency (Stripe's table).
SETTLEMENT_MINIMUMS: dict[str, int] = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip

# US dollars per major unit: fakestripe's own approximate fixed rates.
USD_PER_UNIT: dict[str, float] = {
    "usd": 1.0, "eur": 1.08, "gbp": 1.27, "inr": 0.012, "jpy": 0.0067, "cad": 0.73, "aud": 0.66,
    "nzd": 0.60, "chf": 1.13, "sgd": 0.74, "hkd": 0.128, "sek": 0.095, "nok": 0.093, "dkk": 0.145,
    "mxn": 0.058, "brl": 0.18, "aed": 0.272, "pln": 0.25, "czk": 0.043, "huf": 0.0027, "thb": 0.028,
    "myr": 0.21, "ron": 0.22, "bgn": 0.55,
}  # fmt: skip

# Stripe's zero-decimal currencies: amounts are whole units (https://docs.stripe.com/currencies).
ZERO_DECIMAL = frozenset(
    ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
     "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf")
)  # fmt: skip
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "inr": "₹", "jpy": "¥"}
DEFAULT_SETTLEMENT = "usd"


def _major(amount: int, currency: str) -> float:
    return float(amount) if currency in ZERO_DECIMAL else amount / 100.0


def _money(amount: int, currency: str) -> str:
    """``$0.50`` / ``¥50`` / ``SEK 3.00`` style."""
    value = _major(amount, currency)
    text = f"{value:.0f}" if currency in ZERO_DECIMAL else f"{value:.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{currency.upper()} {text}"


def convert(amount: int, currency: str, settlement: str) -> int | None:
    """``amount`` (minor units of ``currency``) in minor units of ``settlement``; None without rates."""
    if currency == settlement:
        return amount
    if currency not in USD_PER_UNIT or settlement not in USD_PER_UNIT:
        return None
    usd = _major(amount, currency) * USD_PER_UNIT[currency]
    major = usd / USD_PER_UNIT[settlement]
    return int(major) if settlement in ZERO_DECIMAL else int(major * 100)


def check_minimum(amount: int, currency: str, settlement: str) -> None:
    """400 ``amount_too_small`` when ``amount`` is worth less than the settlement minimum."""
    minimum = SETTLEMENT_MINIMUMS.get(settlement)
    converted = convert(amount, currency, settlement)
    if minimum is None or converted is None or converted >= minimum:
        return
    if currency == settlement:
        message = f"Amount must be at least {_money(minimum, settlement)} {settlement}"
    else:
        floor = "50 cents" if settlement == "usd" else _money(minimum, settlement)
        message = (
            f"Amount must convert to at least {floor}. {_money(amount, currency)} "
            f"converts to approximately {_money(converted, settlement)}."
        )
    raise StripeError(400, "invalid_request_error", message, code="amount_too_small", param="line_items")
