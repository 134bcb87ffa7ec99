"""The orders CSV export: streamed in chunks, amounts in major units, formula injection defused."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from catalog.money import currency_decimals
from checkout.models import Order
from payments.interface import gateway


def csv_header() -> list[str]:
    provider = gateway()
    return [
        "number",
        "created_at",
        "paid_at",
        "customer",
        "email",
        "status",
        "currency",
        "total",
        "refunded",
        provider.session_id_name,
        provider.payment_id_name,
    ]


def money_decimal(amount: int, currency: str) -> str:
    """Minor units as a plain major-unit decimal for spreadsheets: 149900 inr → "1499.00"."""
    decimals = currency_decimals(currency)
    return f"{Decimal(int(amount)).scaleb(-decimals):.{decimals}f}"


def _csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formula injection in free text (a username like `=HYPERLINK(...)`)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _iso(value: Any) -> str:
    return timezone.localtime(value).isoformat() if value else ""


class _Echo:
    """A file-like object whose `write` returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def orders_csv_lines(queryset: QuerySet[Order]) -> Iterator[str]:
    """The header and one CSV line per order, fetched in chunks (amounts in major units)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(csv_header())
    for order in queryset.select_related("user").iterator(chunk_size=1000):
        yield writer.writerow(
            [
                order.number,
                _iso(order.created_at),
                _iso(order.paid_at),
                _csv_safe(order.user.get_username() if order.user is not None else ""),
                _csv_safe(order.customer_email),
                order.status,
                order.currency.upper(),
                money_decimal(order.total_amount, order.currency),
                money_decimal(order.amount_refunded, order.currency),
                order.provider_session_id or "",
                order.payment_id,
            ]
        )


def orders_csv_response(queryset: QuerySet[Order]) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(orders_csv_lines(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    return response
