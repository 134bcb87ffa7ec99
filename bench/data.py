"""Benchmark fixtures through the ORM (in the orchestrator process, after `django.setup()`).

Users, a cart with N lines, N orders with items and events, JWT access tokens, a cursor for a row
deep in the catalog, and in-process query counts for an endpoint (`CaptureQueriesContext` around
one request through Django's test client: same URLconf, middleware and views as the server).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from catalog.models import Product, ProductVariant
from checkout.models import Cart, CartItem, Order, OrderEvent, OrderItem

User = get_user_model()
PASSWORD = "bench-password-not-secret-0"  # noqa: S105 (local benchmark users only)


def users_create(prefix: str, count: int) -> list[Any]:
    """`count` users `{prefix}-0000…`, created in one insert with one precomputed password hash."""
    password = make_password(PASSWORD)
    User.objects.bulk_create(
        [
            User(username=f"{prefix}-{i:04d}", email=f"{prefix}-{i:04d}@bench.local", password=password)
            for i in range(count)
        ]
    )
    return list(User.objects.filter(username__startswith=f"{prefix}-").order_by("username"))


def access_token(user: Any) -> str:
    return str(AccessToken.for_user(user))


def active_product_ids(count: int, *, offset: int = 0, untracked: bool = False) -> list[int]:
    """Active products by id; `untracked`: only those whose stock is not tracked, so many parallel
    checkouts measure checkout, not a sold-out variant's 409."""
    products = Product.objects.filter(is_active=True)
    if untracked:
        products = products.exclude(variants__stock_on_hand__isnull=False)
    ids = products.order_by("id").values_list("id", flat=True)
    return list(ids[offset : offset + count])


def cart_with_lines(user: Any, product_ids: list[int], *, quantity: int = 1) -> Cart:
    """An open cart for `user` holding one line per product."""
    cart = Cart.objects.create(user=user)
    variants = default_variants(product_ids)
    CartItem.objects.bulk_create(
        [
            CartItem(cart=cart, product_id=pid, variant_id=variants[pid], quantity=quantity)
            for pid in product_ids
        ]
    )
    return cart


def default_variants(product_ids: list[int]) -> dict[int, int]:
    """Each product's first active variant id (by position)."""
    chosen: dict[int, int] = {}
    rows = ProductVariant.objects.filter(product_id__in=product_ids, is_active=True).order_by(
        "-position", "-id"
    )
    for product_id, variant_id in rows.values_list("product_id", "id"):
        chosen[product_id] = variant_id  # the last written is the first by position
    return chosen


def orders_create(user: Any, count: int, *, product_ids: list[int], items_per_order: int = 3) -> list[Order]:
    """`count` paid orders for `user` (each with items and two events), on one checked-out cart."""
    cart = Cart.objects.create(user=user, status=Cart.Status.CHECKED_OUT)
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids)}
    variants = default_variants(product_ids)
    now = timezone.now()
    orders = []
    for i in range(count):
        lines = [products[product_ids[(i + j) % len(product_ids)]] for j in range(items_per_order)]
        orders.append(
            Order(
                number=f"BN-{secrets.token_hex(6).upper()}",
                user=user,
                cart=cart,
                status=Order.Status.PAID,
                currency="inr",
                total_amount=sum(p.unit_amount for p in lines),
                subtotal_amount=sum(p.unit_amount for p in lines),
                provider_session_id=f"cs_bench_{secrets.token_hex(12)}",
                content_fingerprint=secrets.token_hex(32),
                paid_at=now,
            )
        )
    Order.objects.bulk_create(orders)
    items, events = [], []
    for i, order in enumerate(orders):
        for j in range(items_per_order):
            p = products[product_ids[(i + j) % len(product_ids)]]
            items.append(
                OrderItem(
                    order=order,
                    product=p,
                    variant_id=variants[p.pk],
                    name=p.name,
                    unit_amount=p.unit_amount,
                    quantity=1,
                    line_total=p.unit_amount,
                )
            )
        events.append(OrderEvent(order=order, from_status="", to_status="pending", source="api"))
        events.append(OrderEvent(order=order, from_status="pending", to_status="paid", source="webhook"))
    OrderItem.objects.bulk_create(items)
    OrderEvent.objects.bulk_create(events)
    return orders


def keyset_cursor(ordering: list[str], position: list[Any]) -> str:
    """A cursor in shopapi.pagination's format (`{"o": ordering, "r": false, "p": position}`)."""
    payload = json.dumps({"o": ordering, "r": False, "p": position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def deep_product_cursor(depth: int) -> tuple[str, int, int]:
    """A default-ordering cursor placed after active row number `depth`.

    Returns `(cursor, expected id of the first row on that page, actual depth)`; the caller checks
    the server answers that row first, so a change of cursor format shows up as a failure.
    """
    active = Product.objects.filter(is_active=True)
    depth = min(depth, max(active.count() - 25, 0))
    boundary, first = list(
        active.order_by("-created_at", "-id").values("created_at", "id")[depth : depth + 2]
    )
    cursor = keyset_cursor(["-created_at", "-id"], [boundary["created_at"].isoformat(), boundary["id"]])
    return cursor, first["id"], depth


def price_deep_cursor(depth: int) -> tuple[str, int, int]:
    """Like `deep_product_cursor`, for `ordering=unit_amount`."""
    active = Product.objects.filter(is_active=True)
    depth = min(depth, max(active.count() - 25, 0))
    boundary, first = list(
        active.order_by("unit_amount", "id").values("unit_amount", "id")[depth : depth + 2]
    )
    return keyset_cursor(["unit_amount", "id"], [boundary["unit_amount"], boundary["id"]]), first["id"], depth


def count_queries(path: str, *, token: str | None = None) -> tuple[int, int]:
    """`(queries, status)` for one GET of `path` in-process (a warm-up request runs first).

    `/bench/django-bare/...` resolves against `bench.bare`, as `bench.wsgi` routes it.
    """
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    urlconf = "bench.bare" if path.startswith("/bench/django-bare/") else settings.ROOT_URLCONF
    with override_settings(ROOT_URLCONF=urlconf):
        client.get(path, headers=headers)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, headers=headers)
    return len(ctx.captured_queries), response.status_code


def search_spread_terms(count: int = 100, seed: int = 2026) -> list[str]:
    """`count` varied searches drawn from the seeded vocabulary (the same list every run).

    Single words of every kind (product words, adjectives, brands, description words), adjective +
    noun and brand + noun pairs (from dense to rare together), word fragments, a 2-letter word
    beside a long one, and words no product has: what a shop's search box receives, rather than
    the ten fixed terms of the main search figure.
    """
    import random
    import re

    from catalog import seeding

    rng = random.Random(seed)
    nouns = [noun for theme in seeding.THEMES.values() for noun in theme.nouns]
    noun_words = sorted({w for n in nouns for w in re.findall(r"[A-Za-z]{3,}", n)})
    feature_words = sorted({w for f in seeding.FEATURES for w in f.split() if len(w) > 4})
    brands = [brand.split()[0] for brand in seeding.BRANDS]
    kinds = [
        lambda: rng.choice(noun_words),
        lambda: rng.choice(seeding.ADJECTIVES),
        lambda: rng.choice(brands),
        lambda: rng.choice(feature_words),
        lambda: f"{rng.choice(seeding.ADJECTIVES)} {rng.choice(nouns).split()[-1]}",
        lambda: f"{rng.choice(brands)} {rng.choice(nouns).split()[0]}",
        lambda: f"{rng.choice(seeding.ADJECTIVES)} {rng.choice(brands)} {rng.choice(noun_words)}",
        lambda: rng.choice(noun_words)[: rng.randint(3, 5)].lower(),
        lambda: f"{rng.choice(['puzzle', 'jigsaw', 'cotton', 'kettle'])} {rng.choice(['pc', 'of', 'to'])}",
        lambda: rng.choice(["unobtainium", "zeppelin", "quixotic", "xylograph", "samovar"]),
    ]
    terms: list[str] = []
    i = 0
    while len(terms) < count:
        term = kinds[i % len(kinds)]()
        i += 1
        if term not in terms:
            terms.append(term)
    return terms


def search_reference_ids(term: str, n: int = 20) -> list[int]:
    """The first `n` ids for `term` from one unsplit query (the answer the bounded fetch must give)."""
    from rest_framework.filters import search_smart_split

    from catalog.search import normalize_terms, search_condition
    from catalog.selectors import product_list_active

    # DRF's stub types the argument as a list; it takes the raw query string, as SearchFilter passes it.
    words: list[str] = search_smart_split(term)  # type: ignore[arg-type]
    condition = search_condition(normalize_terms(words))
    return list(product_list_active().filter(condition).values_list("id", flat=True)[:n])
