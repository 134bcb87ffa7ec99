"""`manage.py purge_guest_carts`: only abandoned guest carts go (no orders, untouched GUEST_CART_TTL_DAYS)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from checkout.models import Cart, CartItem, Order
from tests.checkout.backoffice import make_order
from tests.checkout.guests import guest_cart
from tests.checkout.stock_helpers import cart_with
from tests.factories import ProductFactory, UserFactory, default_variant_of

pytestmark = pytest.mark.django_db


def _age(cart: Cart, days: int) -> None:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=days))


def _purge() -> str:
    out = StringIO()
    call_command("purge_guest_carts", stdout=out)
    return out.getvalue()


def test_purge_deletes_only_old_guest_carts_without_orders(settings: SettingsWrapper) -> None:
    # given: with a 30-day TTL, an old guest cart with a line, a recent one, an old one that led to
    # an order, an old merged one, and an old user's cart
    settings.GUEST_CART_TTL_DAYS = 30
    variant = default_variant_of(ProductFactory.create())
    old, _ = guest_cart((variant, 2))
    recent, _ = guest_cart()
    ordered, _ = guest_cart()
    merged, _ = guest_cart()
    Cart.objects.filter(pk=merged.pk).update(status=Cart.Status.MERGED)
    order = make_order(UserFactory.create())  # made a guest's order, of that cart
    Order.objects.filter(pk=order.pk).update(cart=ordered, user=None, token_hash="0" * 64)
    users = cart_with(UserFactory.create(), (variant, 1))
    for cart in (old, ordered, merged, users):
        _age(cart, 31)
    _age(recent, 29)

    # when
    first = _purge()
    second = _purge()

    # then: the old order-less guest carts (lines with them), nothing else; a second run finds nothing
    remaining = set(Cart.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert merged.pk not in remaining
    assert {recent.pk, ordered.pk, users.pk} <= remaining
    assert not CartItem.objects.filter(cart_id=old.pk).exists()
    assert CartItem.objects.filter(cart=users).count() == 1
    assert first.startswith("purged 2 guest cart(s)")
    assert second.startswith("purged 0 guest cart(s)")


def test_purge_refuses_a_ttl_below_one_day(settings: SettingsWrapper) -> None:
    # given: a TTL that would delete every guest cart, in use or not
    settings.GUEST_CART_TTL_DAYS = 0
    cart, _ = guest_cart()
    # when / then
    with pytest.raises(CommandError, match="at least 1"):
        _purge()
    assert Cart.objects.filter(pk=cart.pk).exists()
