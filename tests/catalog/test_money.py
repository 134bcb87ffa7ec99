"""format_money: minor units to a display string, by the currency's decimals."""

from __future__ import annotations

import pytest

from catalog.money import currency_decimals, format_money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (149_900, "inr", "₹1,499.00"),
        (149_905, "INR", "₹1,499.05"),
        (5, "inr", "₹0.05"),
        (0, "inr", "₹0.00"),
        (99_999_999, "inr", "₹999,999.99"),
        (1_500, "jpy", "¥1,500"),
        (1_234_567, "krw", "₩1,234,567"),
        (1_050, "usd", "$10.50"),
        (1_234_567, "kwd", "KWD 1,234.567"),
        (1_250, "aed", "AED 12.50"),
        (-500, "eur", "-€5.00"),
    ],
)
def test_format_money(amount: int, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected


def test_currency_decimals() -> None:
    assert currency_decimals("inr") == 2
    assert currency_decimals("JPY") == 0
    assert currency_decimals("bhd") == 3
