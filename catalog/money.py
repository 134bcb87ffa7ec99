"""Money display: integer minor units + ISO currency -> a human string (₹1,499.00, ¥1,500).

Amounts are stored in the currency's smallest unit (the form the payment provider takes); this
module is only for showing them to people (admin, e-mails), never for arithmetic.
"""

from __future__ import annotations

# Zero-decimal currencies: no minor unit is in use, so the amount is already in whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
# Currencies with three decimal places (1 dinar = 1000 fils).
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

CURRENCY_SYMBOLS = {
    "inr": "₹",
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "cny": "¥",
    "krw": "₩",
}


def currency_decimals(currency: str) -> int:
    """How many digits of the minor-unit amount sit after the decimal point."""
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def format_money(amount: int, currency: str) -> str:
    """`format_money(149900, "inr") == "₹1,499.00"`; `format_money(1500, "jpy") == "¥1,500"`.

    Unknown symbols fall back to the upper-case code: `format_money(1250, "aed") == "AED 12.50"`.
    """
    decimals = currency_decimals(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(int(amount)), 10**decimals)
    number = f"{whole:,}" + (f".{fraction:0{decimals}d}" if decimals else "")
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    if symbol is None:
        return f"{sign}{currency.upper()} {number}"
    return f"{sign}{symbol}{number}"
