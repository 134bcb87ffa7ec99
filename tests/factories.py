"""factory_boy factories for every model the tests build."""

from __future__ import annotations

from typing import cast

import factory

from accounts.models import User
from catalog.models import Category, Product, ProductVariant
from checkout.models import Cart, CartItem

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A thing worth buying."
    unit_amount = 149_900
    currency = "inr"
    is_active = True
    category = factory.SubFactory(CategoryFactory)

    @factory.post_generation
    def default_variant(obj: Product, create: bool, extracted: object, **kwargs: object) -> None:
        """Every product is sold through a variant: the default one, at the product's price, with
        its stock untracked unless `default_variant__stock_on_hand=N` (`default_variant=False`: none)."""
        if create and extracted is not False:
            ProductVariant.objects.create(
                product=obj,
                sku=obj.slug,
                unit_amount=obj.unit_amount,
                currency=obj.currency,
                stock_on_hand=cast("int | None", kwargs.get("stock_on_hand")),
            )


def default_variant_of(product: Product) -> ProductVariant:
    """The product's first variant (the default one the factory made)."""
    return ProductVariant.objects.filter(product=product).order_by("position", "pk").first() or _missing(
        product
    )


def _missing(product: Product) -> ProductVariant:
    raise AssertionError(f"product {product.pk} has no variant")


class ProductVariantFactory(factory.django.DjangoModelFactory[ProductVariant]):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory, default_variant=False)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    unit_amount = 149_900
    currency = "inr"
    is_active = True


class CartFactory(factory.django.DjangoModelFactory[Cart]):
    class Meta:
        model = Cart

    user = factory.SubFactory(UserFactory)


class CartItemFactory(factory.django.DjangoModelFactory[CartItem]):
    class Meta:
        model = CartItem

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    variant = factory.LazyAttribute(lambda o: default_variant_of(o.product))
    quantity = 1
