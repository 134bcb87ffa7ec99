"""The public JSON of single products, from the catalog read cache: what other answers embed.

A cart line embeds the product as the catalog publishes it (`ProductSerializer`); building that
for every line on every cart read (the product, its category, variants, options and images as
model instances and rows, then the dict, then its JSON) was most of a cart read's CPU time.
`product_fragments` answers the rendered JSON bytes of many products: the ones the cache holds in
one round trip, the others built from the database (two queries for all of them, whatever their
number) and stored.

A fragment follows the rules of a cached catalog page (catalog/cache.py): it remembers the
catalog version read before its rows were read and is served only while that is the version (a
committed write to prices, names, the active flag, categories, variants, options or images bumps
it: never stale), and the stock counter it was built under (stock may lag at most
`CATALOG_STOCK_STALENESS_SECONDS`, 0: exact). The counters and the fragments are read in one
round trip. Image URLs are absolute, built on the request's scheme and host
(`catalog.variants.image_url`), so a fragment is kept per scheme and host. With the cache
switched off (`CATALOG_CACHE_ENABLED`) or down, every product is built from the database and
nothing is stored. Inactive products are answered too (a cart may hold one): the callers decide
what they may show.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rest_framework.compat import LONG_SEPARATORS, SHORT_SEPARATORS
from rest_framework.renderers import JSONRenderer

from catalog import cache as catalog_cache
from catalog.models import Product
from catalog.serializers import ProductSerializer
from catalog.variants import product_children_attach

# What `JSONRenderer.render` does without an `indent`, with one encoder made once instead of one
# per call (tests/catalog/test_fragments.py compares the two).
_encoder = JSONRenderer.encoder_class(
    ensure_ascii=JSONRenderer.ensure_ascii,
    allow_nan=not JSONRenderer.strict,
    separators=SHORT_SEPARATORS if JSONRenderer.compact else LONG_SEPARATORS,
)


def render_json(data: Any) -> bytes:
    """`data` as DRF's JSON renderer answers it without an `indent` (a fragment is spliced into
    such an answer, so it must be the very bytes the renderer would write there)."""
    text: str = _encoder.encode(data)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def products_json(product_ids: Iterable[int], request: Any) -> dict[int, bytes]:
    """The public JSON of each product that exists, from the database: two queries for all."""
    products = list(Product.objects.select_related("category").filter(pk__in=list(product_ids)))
    product_children_attach(products)
    serializer = ProductSerializer(context={"request": request})
    return {product.pk: render_json(serializer.to_representation(product)) for product in products}


def product_fragments(product_ids: Iterable[int], request: Any) -> dict[int, bytes]:
    """The public JSON of each product (see the module docstring): cached when it may be served,
    else built from the database and stored. A product that does not exist is left out."""
    wanted = sorted(set(product_ids))
    if not wanted:
        return {}
    if not catalog_cache.enabled():
        return products_json(wanted, request)
    origin = f"{request.scheme}://{request.get_host()}"
    keys = catalog_cache.fragment_keys(origin, wanted)
    try:
        version, stock, cached = catalog_cache.fragments_get(list(keys.values()))
    except catalog_cache.CACHE_ERRORS:  # the cache is down: answer from the database
        catalog_cache.logger.warning("catalog cache: fragments unavailable", exc_info=True)
        return products_json(wanted, request)
    found = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        built_at = time.time()  # before the rows are read: the fragments are at least this old
        built = products_json(missing, request)
        catalog_cache.fragments_set(
            {
                keys[pk]: catalog_cache.CachedFragment(body, version, built_at, stock)
                for pk, body in built.items()
            }
        )
        found.update(built)
    return found
