"""The variants, options and opening stock of the seeded catalog (`manage.py seed_catalog`).

Deterministic like `catalog.seeding`: product number `n` always gets the same options, variants,
prices and stock, computed from an integer hash of `n` (a stream of its own, so the product's
name and price are what they were before variants existed). The rules:

- Most products have one **default variant**: SKU = the product's slug, no title, no options.
- A generated product whose name carries no variant of its own (no " – Black", " (Pack of 2)":
  a quarter of them) comes **in options** when its theme has some (`THEME_OPTIONS`; about 1 in 5
  products overall): Size (S/M/L), Colour (three of a palette) or both (S/M/L × two colours) for
  apparel and outdoors, Colour for electronics, home, kitchen and toys; one variant per
  combination, SKU `<slug>-m-black`. Each size up costs one step more (₹50, or 5 % of the price
  for dearer things). 1 in 8 of them has the first value of its first option discontinued (its
  variants inactive: size S, or the first colour), so the product's price is its lowest *active*
  variant's (`SeedVariants.unit_amount`), as `catalog.variants.product_sync` would set it.
- **Stock**: 1 in 6 products is not tracked (every variant unlimited); a tracked variant has 0
  on hand 1 time in 10, 1–5 (low) 2 times in 10, else 6–120.
- The first twelve products (the demo shop `seed_demo` shows) are written out by hand in
  `CURATED_VARIANTS`: a T-shirt and a jacket in sizes and colours, low stock, a sold-out size,
  an untracked product.

The opening stock of every tracked variant with units on hand is one `import` ledger row
(`StockMovement`, note `seed_catalog`), so the ledger sums to on-hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product as combinations
from math import prod

from django.utils.text import slugify

from catalog.seeding import VARIANTS, SeedProduct, category_theme, mix64

SEED_NOTE = "seed_catalog"  # the note of every opening-stock ledger row the seeding writes

DISCONTINUED_ONE_IN = 8  # of the products in options, 1 in 8 has its first value discontinued
UNTRACKED_ONE_IN = 6  # products whose stock is not tracked
SIZES = ("S", "M", "L")
PRICED_SIZES = ("S", "M", "L", "XL")  # each one a size step dearer than the one before
COLOURS = ("Black", "White", "Indigo", "Olive", "Sand", "Terracotta", "Navy", "Grey")
# Which options a generated product of a theme may come in (one picked by hash), if any.
THEME_OPTIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "apparel": (("Size",), ("Colour",), ("Size", "Colour")),
    "outdoors": (("Size",), ("Colour",), ("Size", "Colour")),
    "electronics": (("Colour",),),
    "home": (("Colour",),),
    "kitchen": (("Colour",),),
    "toys": (("Colour",),),
    "beauty": (),
    "books": (),
}
_NAME_SUFFIXES = tuple(suffix for suffix in VARIANTS if suffix)
# Separate hash streams for the options, whether stock is tracked, and each variant's stock.
_OPTIONS_SALT = 0x6F_7074  # "opt"
_TRACKED_SALT = 0x74_726B  # "trk"
_STOCK_SALT = 0x73_746B  # "stk"

_VALUE_SLUGS: dict[str, str] = {}  # option value -> its part of a SKU ("Black" -> "black")

OptionSpec = tuple[tuple[str, tuple[str, ...]], ...]  # ((name, values), ...), in display order

# The demo shop: product number -> (options, on hand per combination in order; None: not tracked).
CURATED_VARIANTS: dict[int, tuple[OptionSpec, tuple[int, ...] | None]] = {
    1: ((), (18,)),  # Cast Iron Skillet
    2: ((("Colour", ("Black", "Silver")),), (9, 3)),  # Headphones: silver is low
    3: ((("Size", SIZES), ("Colour", ("White", "Black"))), (12, 7, 20, 0, 4, 2)),  # T-shirt
    4: ((), (2,)),  # Pressure Cooker: low stock
    5: ((), None),  # USB-C Charger: not tracked
    6: ((("Size", ("S", "M", "L", "XL")),), (5, 8, 6, 1)),  # Kurta
    7: ((), (40,)),  # Coffee Dripper
    8: ((("Colour", ("Black", "Teal")),), (15, 6)),  # Speaker
    9: ((("Size", SIZES),), None),  # Socks: sizes, not tracked
    10: ((), None),  # Cutting Boards: not tracked
    11: ((), (1,)),  # Keyboard: the last one
    12: ((("Size", SIZES), ("Colour", ("Olive", "Navy"))), (3, 2, 6, 4, 5, 0)),  # Jacket
}


@dataclass(frozen=True, slots=True)
class SeedVariant:
    sku: str
    options: dict[str, str]  # {} for a default variant
    unit_amount: int
    is_active: bool
    stock_on_hand: int | None  # None: not tracked
    position: int


@dataclass(frozen=True, slots=True)
class SeedVariants:
    """A product's options and variants (title always blank: buyers see the option values)."""

    options: OptionSpec
    variants: tuple[SeedVariant, ...]

    @property
    def unit_amount(self) -> int:
        """The product's price: its lowest active variant's (the first by position on a tie)."""
        active = [variant for variant in self.variants if variant.is_active] or list(self.variants)
        return min(active, key=lambda variant: (variant.unit_amount, variant.position)).unit_amount


def _value_slug(value: str) -> str:
    slug = _VALUE_SLUGS.get(value)
    if slug is None:
        slug = _VALUE_SLUGS[value] = slugify(value)
    return slug


def size_step(unit_amount: int) -> int:
    """What one size up adds: ₹50, or 5 % of the price rounded down to ₹50 (prices keep their 49/99)."""
    rupees = unit_amount // 100
    return max(50, rupees * 5 // 100 // 50 * 50) * 100


def _generated_options(number: int, product: SeedProduct) -> tuple[OptionSpec, bool]:
    """The options of generated product `number`, and whether the first value of its first option
    is discontinued."""
    kinds = THEME_OPTIONS[category_theme(product.category_index)]
    if not kinds or product.name.endswith(_NAME_SUFFIXES):
        return (), False
    h = mix64(number ^ _OPTIONS_SALT)
    kind, h = kinds[h % len(kinds)], h // len(kinds)
    start, h = h % len(COLOURS), h // len(COLOURS)
    colours = tuple(COLOURS[(start + step) % len(COLOURS)] for step in range(2 if "Size" in kind else 3))
    spec = tuple((name, SIZES if name == "Size" else colours) for name in kind)
    return spec, h % DISCONTINUED_ONE_IN == 0


def _generated_stock(number: int, position: int) -> int:
    h = mix64(((number << 4) | position) ^ _STOCK_SALT)
    bucket, h = h % 10, h // 10
    if bucket == 0:
        return 0
    if bucket <= 2:
        return 1 + h % 5
    return 6 + h % 115


def variants_for(number: int, product: SeedProduct) -> SeedVariants:
    """The options and variants of product number `number` (1-based), `product` being its row."""
    if number in CURATED_VARIANTS:
        spec, stock = CURATED_VARIANTS[number]
        return _variants(product, spec, stock, discontinued=False)
    spec, discontinued = _generated_options(number, product)
    tracked = mix64(number ^ _TRACKED_SALT) % UNTRACKED_ONE_IN != 0
    if not spec:  # most products: kept short, a million of them are seeded
        on_hand = _generated_stock(number, 0) if tracked else None
        return SeedVariants((), (SeedVariant(product.slug, {}, product.unit_amount, True, on_hand, 0),))
    count = prod(len(values) for _, values in spec)
    stock = tuple(_generated_stock(number, position) for position in range(count)) if tracked else None
    return _variants(product, spec, stock, discontinued=discontinued)


def _variants(
    product: SeedProduct, spec: OptionSpec, stock: tuple[int, ...] | None, *, discontinued: bool
) -> SeedVariants:
    """One variant per combination of the options' values (the default variant without options)."""
    step = size_step(product.unit_amount)
    names = [name for name, _ in spec]
    first = spec[0][1][0] if spec else None  # the value that is discontinued (all its combinations)
    variants = []
    for position, values in enumerate(combinations(*(values for _, values in spec))):
        options = dict(zip(names, values, strict=True))
        size = options.get("Size")
        variants.append(
            SeedVariant(
                sku="-".join([product.slug, *(_value_slug(value) for value in values)]),
                options=options,
                unit_amount=product.unit_amount + (PRICED_SIZES.index(size) * step if size else 0),
                is_active=not (discontinued and values[0] == first),
                stock_on_hand=None if stock is None else stock[position],
                position=position,
            )
        )
    return SeedVariants(spec, tuple(variants))
