"""The cart answers (`GET /carts/`, `GET /carts/{id}/`, `POST /carts/`, the claim) as JSON bytes.

Why not `CartSerializer`: a cart line embeds its product as the catalog publishes it, and
loading 50 products with their categories, variants, options and images as model instances,
then walking them through the serializers and the JSON encoder, was most of a cart read's CPU
time (issue 21). Here the cart and its lines are plain rows (one query, the lines' variants
joined: `checkout.selectors.carts.cart_rows_*`) and each line's product is its JSON fragment from
the catalog read cache (`catalog.fragments.product_fragments`: one round trip; only the products
it lacks are read from the database), spliced into the answer as bytes.

What is current on every read: the lines, quantities and the variants (sku, title, options, and
the price: `unit_amount`, the line totals and the cart's totals, via `checkout.pricing`). The
embedded product follows the catalog's rules (catalog/cache.py): never staler than a committed
catalog write; its stock may lag at most `CATALOG_STOCK_STALENESS_SECONDS` (0: exact), as on the
product's own page. Checkout never reads it: it prices and checks stock from the database.

`CartSerializer` stays the contract (the schema is generated from it) and the reference: the
tests compare these bytes with its rendered output, byte for byte. Only an answer DRF's JSON
renderer would write without `indent` is built here (`plain_json`); any other is the serializer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from catalog.fragments import product_fragments, render_json
from catalog.variants import display_title
from checkout import pricing
from checkout.selectors.carts import CartRows, LineRow
from checkout.serializers.dates import iso_utc

CONTENT_TYPE = JSONRenderer.media_type  # the renderer has no charset: the header is just this
_LINE = b'{"id":%d,"product":%b,"variant":%b,"quantity":%d,"unit_amount":%d,"line_total":%d}'


def json_answer(body: bytes, *, status: int = 200) -> HttpResponse:
    """An answer written by this module or checkout/serializers/order_rows.py: the bytes and the
    headers DRF's JSON renderer would give the serializer's data."""
    return HttpResponse(body, content_type=CONTENT_TYPE, status=status)


def plain_json(request: Request) -> bool:
    """Whether DRF would answer `request` with its JSON renderer and no `indent` (what this
    module writes); e.g. `Accept: application/json; indent=4` is left to the serializer."""
    renderer = getattr(request, "accepted_renderer", None)
    return type(renderer) is JSONRenderer and request.accepted_media_type == renderer.media_type


def _line(line: LineRow, product: bytes) -> bytes:
    variant = render_json(
        {
            "id": line.variant_id,
            "sku": line.sku,
            "title": display_title(line.title, line.options),
            "options": line.options or {},
        }
    )
    total = pricing.line_total(line.unit_amount, line.quantity)
    return _LINE % (line.id, product, variant, line.quantity, line.unit_amount, total)


def _cart(cart: CartRows, products: dict[int, bytes], extra: dict[str, Any]) -> bytes:
    total_amount, currency, item_count = pricing.cart_totals(
        [(line.unit_amount, line.quantity, line.currency) for line in cart.lines]
    )
    head = render_json({"id": str(cart.id), "status": cart.status})
    tail = render_json(
        {
            "total_amount": total_amount,
            "currency": currency,
            "item_count": item_count,
            "created_at": iso_utc(cart.created_at),
            "updated_at": iso_utc(cart.updated_at),
            **extra,
        }
    )
    items = b",".join(_line(line, products[line.product_id]) for line in cart.lines)
    return b'%b,"items":[%b],%b' % (head[:-1], items, tail[1:])


def _products(carts: Sequence[CartRows], request: Request) -> dict[int, bytes]:
    return product_fragments((line.product_id for cart in carts for line in cart.lines), request)


def cart_json(
    cart: CartRows, request: Request, *, token: str | None = None, capped: list[Any] | None = None
) -> bytes:
    """One cart as `CartSerializer` renders it (`token`: a new guest cart's), or as
    `CartClaimSerializer` does when `capped` (the claim's capped lines, rendered) is given."""
    extra: dict[str, Any] = {"token": token}
    if capped is not None:
        extra["capped"] = capped
    return _cart(cart, _products([cart], request), extra)


def carts_json(carts: Sequence[CartRows], request: Request) -> bytes:
    """A list of carts as `CartSerializer(many=True)` renders it; one fragment lookup for all."""
    products = _products(carts, request)
    return b"[%b]" % b",".join(_cart(cart, products, {"token": None}) for cart in carts)
