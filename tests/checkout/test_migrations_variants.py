"""Catalog v2's migrations turn a database of the previous schema (products, carts with lines, paid
orders) into the new one without changing any price, total, quantity or line."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0004_drop_product_column_trigram"), ("checkout", "0004_session_unclear_since")]


def _old_database() -> dict[str, Any]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="before-v2", email="v2@example.com")
    category = old.get_model("catalog", "Category").objects.create(name="Tea", slug="tea")
    product_model = old.get_model("catalog", "Product")
    tea = product_model.objects.create(
        name="Assam", slug="assam", unit_amount=45_000, currency="inr", category=category
    )
    pot = product_model.objects.create(name="Teapot", slug="teapot", unit_amount=129_900, currency="inr")
    off = product_model.objects.create(
        name="Old mug", slug="old-mug", unit_amount=19_900, currency="inr", is_active=False
    )
    cart_model = old.get_model("checkout", "Cart")
    open_cart = cart_model.objects.create(user=user, status="open")
    paid_cart = cart_model.objects.create(user=user, status="checked_out")
    item_model = old.get_model("checkout", "CartItem")
    item_model.objects.create(cart=open_cart, product=tea, quantity=3)
    item_model.objects.create(cart=open_cart, product=off, quantity=1)
    item_model.objects.create(cart=paid_cart, product=pot, quantity=2)
    order = old.get_model("checkout", "Order").objects.create(
        number="SA-VARIANT1",
        user=user,
        cart=paid_cart,
        status="paid",
        currency="inr",
        total_amount=2 * 129_900 + 45_000,
        provider_session_id="cs_test_v2",
        payment_id="pi_test_v2",
        content_fingerprint="e" * 64,
    )
    order_item = old.get_model("checkout", "OrderItem")
    order_item.objects.create(
        order=order, product=pot, name="Teapot", unit_amount=129_900, quantity=2, line_total=259_800
    )
    order_item.objects.create(
        order=order, product=tea, name="Assam", unit_amount=45_000, quantity=1, line_total=45_000
    )
    return {"tea": tea.pk, "pot": pot.pk, "off": off.pk, "open_cart": open_cart.pk, "order": order.pk}


def test_every_product_gets_one_default_variant_and_no_total_or_line_changes() -> None:
    # given: the schema before variants, with products, an open cart with lines and a paid order
    ids = _old_database()

    # when: migrating to the latest schema
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then: one default variant per product, at its price, untracked, SKU from the slug
    from catalog.models import Product, ProductVariant
    from checkout.models import CartItem, Order, OrderItem
    from checkout.pricing import price_cart

    for product in Product.objects.all():
        (variant,) = ProductVariant.objects.filter(product=product)
        assert (variant.sku, variant.unit_amount, variant.currency) == (
            product.slug,
            product.unit_amount,
            product.currency,
        )
        assert variant.is_active
        assert variant.stock_on_hand is None
        assert variant.display_title == "Default"
    # the open cart's lines point at those variants and price exactly as before
    lines = list(CartItem.objects.filter(cart_id=ids["open_cart"]).select_related("product", "variant"))
    assert sorted((line.product_id, line.variant.product_id, line.quantity) for line in lines) == sorted(
        [(ids["tea"], ids["tea"], 3), (ids["off"], ids["off"], 1)]
    )
    assert price_cart(lines).total_amount == 3 * 45_000 + 19_900
    # the paid order keeps its total and lines, now with the variant and its SKU
    order = Order.objects.get(pk=ids["order"])
    assert (order.status, order.total_amount, order.oversold) == ("paid", 304_800, False)
    items = list(OrderItem.objects.filter(order=order).order_by("id"))
    assert [(i.name, i.unit_amount, i.quantity, i.line_total, i.sku, i.variant_title) for i in items] == [
        ("Teapot", 129_900, 2, 259_800, "teapot", ""),
        ("Assam", 45_000, 1, 45_000, "assam", ""),
    ]
    assert [item.variant.product_id for item in items] == [ids["pot"], ids["tea"]]
    assert sum(item.line_total for item in items) == order.total_amount
