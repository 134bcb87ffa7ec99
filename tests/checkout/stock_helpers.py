"""Builders for the stock tests: a product in sizes with tracked stock, carts holding its variants."""

from __future__ import annotations

from accounts.models import User
from catalog.models import Product, ProductOption, ProductVariant, StockMovement
from catalog.stock import stock_set
from catalog.variants import product_sync
from checkout.models import Cart, CartItem
from tests.factories import CartFactory, ProductFactory


def sized_product(
    *, stock: dict[str, int | None], unit_amount: int = 99_900
) -> tuple[Product, dict[str, ProductVariant]]:
    """A T-shirt with a Size option and one variant per size, `stock` on hand per size (None: untracked)."""
    product = ProductFactory.create(name="T-shirt", unit_amount=unit_amount, default_variant=False)
    ProductOption.objects.create(product=product, name="Size", values=list(stock))
    variants = {
        size: ProductVariant.objects.create(
            product=product,
            sku=f"TEE-{size}-{product.pk}",
            options={"Size": size},
            unit_amount=unit_amount,
            currency="inr",
            position=position,
        )
        for position, size in enumerate(stock)
    }
    for size, on_hand in stock.items():  # through the ledger, as staff would
        if on_hand is not None:
            stock_set(
                variant_id=variants[size].pk,
                on_hand=on_hand,
                actor="test",
                reason=StockMovement.Reason.IMPORT,
            )
            variants[size].refresh_from_db()
    product_sync([product.pk])
    return product, variants


def cart_with(user: User, *lines: tuple[ProductVariant, int]) -> Cart:
    """An open cart of `user` holding `quantity` of each variant (written directly: carts reserve nothing)."""
    cart = CartFactory.create(user=user)
    for variant, quantity in lines:
        CartItem.objects.create(cart=cart, product=variant.product, variant=variant, quantity=quantity)
    return cart
