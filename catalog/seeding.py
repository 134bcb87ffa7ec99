"""Deterministic demo catalog data for `manage.py seed_catalog`.

Product number `i` (1-based) always becomes the same row: slug `product-000001`, the same name,
description, price, category and active flag, so seeding is idempotent and repeatable. The first
twelve are a hand-written small shop (what `make run` shows); the rest are generated from
per-category vocabularies with an integer hash, which is much cheaper than a `random.Random` per
row when loading a million products. Each product's options, variants and opening stock follow
the same way from its number: `catalog.seeding_variants`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.text import slugify

MASK64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Theme:
    """What products of a kind are called and what they cost (whole rupees, low..high)."""

    nouns: tuple[str, ...]
    price: tuple[int, int]


# Generated products are spread over time from here, 30 s apart (1,000,000 ≈ 347 days).
CATALOG_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
SECONDS_BETWEEN_PRODUCTS = 30
INACTIVE_ONE_IN = 20  # about 5% of generated products are switched off

THEMES: dict[str, Theme] = {
    "kitchen": Theme(
        nouns=(
            "Chef's Knife",
            "Cast Iron Skillet",
            "French Press",
            "Spice Grinder",
            "Tawa",
            "Kadai",
            "Mixing Bowl Set",
            "Tea Kettle",
            "Cutting Board",
            "Storage Jar Set",
            "Idli Steamer",
        ),
        price=(299, 4999),
    ),
    "electronics": Theme(
        nouns=(
            "Wireless Earbuds",
            "Power Bank 20000 mAh",
            "USB-C Cable",
            "Smart Plug",
            "Webcam 1080p",
            "Bluetooth Speaker",
            "Wi-Fi Router",
            "Fitness Band",
            "Laptop Stand",
            "Wireless Mouse",
        ),
        price=(399, 14999),
    ),
    "apparel": Theme(
        nouns=(
            "Cotton T-Shirt",
            "Linen Shirt",
            "Kurta",
            "Denim Jacket",
            "Chinos",
            "Hoodie",
            "Running Shorts",
            "Silk Scarf",
            "Wool Sweater",
            "Rain Jacket",
        ),
        price=(349, 5999),
    ),
    "home": Theme(
        nouns=(
            "Throw Blanket",
            "Cushion Cover Set",
            "Table Lamp",
            "Wall Clock",
            "Bath Towel Set",
            "Scented Candle",
            "Cotton Bedsheet",
            "Doormat",
            "Planter",
            "Photo Frame",
        ),
        price=(199, 3999),
    ),
    "outdoors": Theme(
        nouns=(
            "Trekking Backpack",
            "Water Bottle",
            "Camping Lantern",
            "Yoga Mat",
            "Cycling Gloves",
            "Tent for Two",
            "Trail Shoes",
            "Sleeping Bag",
            "Skipping Rope",
            "Dumbbell Pair",
        ),
        price=(249, 9999),
    ),
    "beauty": Theme(
        nouns=(
            "Face Wash",
            "Sunscreen SPF 50",
            "Hair Oil",
            "Lip Balm",
            "Body Lotion",
            "Beard Trimmer",
            "Shampoo Bar",
            "Kajal",
            "Hand Cream",
            "Sheet Mask Pack",
        ),
        price=(99, 2999),
    ),
    "books": Theme(
        nouns=(
            "Notebook",
            "Fountain Pen",
            "Sketchbook",
            "Desk Planner",
            "Paperback Novel",
            "Cookbook",
            "Colouring Pencils",
            "Journal",
            "Bookmark Set",
            "Atlas",
        ),
        price=(99, 1999),
    ),
    "toys": Theme(
        nouns=(
            "Building Blocks",
            "Jigsaw Puzzle 1000 pc",
            "Plush Elephant",
            "Board Game",
            "Kite",
            "Wooden Train Set",
            "Rubik's Cube",
            "Art Kit",
            "Remote Control Car",
            "Spinning Top",
        ),
        price=(149, 4999),
    ),
}

CATEGORIES: list[tuple[str, str]] = [
    ("Kitchen & Dining", "kitchen"),
    ("Electronics", "electronics"),
    ("Apparel", "apparel"),
    ("Home Decor", "home"),
    ("Sports & Outdoors", "outdoors"),
    ("Beauty & Personal Care", "beauty"),
    ("Books & Stationery", "books"),
    ("Toys & Games", "toys"),
    ("Cookware", "kitchen"),
    ("Mobile Accessories", "electronics"),
    ("Men's Fashion", "apparel"),
    ("Bed & Bath", "home"),
    ("Fitness", "outdoors"),
    ("Skin Care", "beauty"),
    ("Office Supplies", "books"),
    ("Kids' Corner", "toys"),
    ("Tea & Coffee", "kitchen"),
    ("Audio", "electronics"),
    ("Women's Fashion", "apparel"),
    ("Lighting", "home"),
    ("Camping", "outdoors"),
    ("Hair Care", "beauty"),
    ("Art Supplies", "books"),
    ("Puzzles", "toys"),
]

BRANDS = [
    "Aarav",
    "Kaveri",
    "Nilgiri",
    "Monsoon",
    "Saffron & Co",
    "Tanmay",
    "Zephyr",
    "Indus Craft",
    "Lumen",
    "Banyan",
    "Himalaya Works",
    "Coastline",
    "Urban Loom",
    "Peacock",
    "Terra",
    "Vayu",
]
ADJECTIVES = [
    "Classic",
    "Everyday",
    "Premium",
    "Compact",
    "Handcrafted",
    "Eco",
    "Pro",
    "Lightweight",
    "Deluxe",
    "Essential",
    "Heritage",
    "Studio",
    "Travel",
    "Organic",
    "Signature",
    "Modern",
]
VARIANTS = [
    "",
    "",
    "",
    " – Black",
    " – Indigo",
    " – Sand",
    " – Olive",
    " – Small",
    " – Large",
    " (Pack of 2)",
    " (Pack of 3)",
    " – Terracotta",
]
FEATURES = [
    "built to last through daily use",
    "easy to clean and quick to dry",
    "made with responsibly sourced materials",
    "covered by a one-year warranty",
    "designed and tested in Bengaluru",
    "lightweight enough to carry anywhere",
    "finished by hand in small batches",
    "gift-ready in a recyclable box",
    "rated highly by thousands of customers",
    "backed by free returns within 30 days",
]


@dataclass(frozen=True, slots=True)
class SeedProduct:
    slug: str
    name: str
    description: str
    unit_amount: int
    category_index: int  # index into the seeded categories
    is_active: bool
    created_at: datetime


# The first twelve: a believable small shop for the demo (3 categories, all on sale).
CURATED: list[tuple[str, str, int, int]] = [
    # name, description, unit_amount (paise), category index
    (
        "Cast Iron Skillet, 10-inch",
        "Pre-seasoned cast iron that goes from stove to oven; "
        "heats evenly for dosas, rotis and a proper sear.",
        189_900,
        0,
    ),
    (
        "Wireless Noise-Cancelling Headphones",
        "Over-ear headphones with 30-hour battery, active noise cancelling and a fold-flat travel case.",
        799_900,
        1,
    ),
    (
        "Organic Cotton Crew T-Shirt",
        "A soft, mid-weight tee in GOTS-certified organic cotton; pre-shrunk, with a relaxed fit.",
        69_900,
        2,
    ),
    (
        "Stainless Steel Pressure Cooker, 5 L",
        "Tri-ply base for induction and gas, with a safety valve and gasket that last for years.",
        249_900,
        0,
    ),
    (
        "USB-C Fast Charger, 65 W",
        "One compact charger for a laptop, a phone and earbuds, with two USB-C ports and one USB-A.",
        149_900,
        1,
    ),
    (
        "Handloom Linen Kurta, Indigo",
        "Breathable handloom linen, dyed with natural indigo; a straight cut with side pockets.",
        179_900,
        2,
    ),
    (
        "Ceramic Pour-Over Coffee Dripper",
        "Brews a clean, bright cup of filter coffee; fits most mugs and paper filters.",
        89_900,
        0,
    ),
    (
        "Bluetooth Portable Speaker",
        "Water-resistant speaker with rich bass and 12 hours of playback; pairs two for stereo.",
        299_900,
        1,
    ),
    (
        "Merino Wool Socks, 3 Pairs",
        "Cushioned, breathable merino socks that stay fresh on long days and treks.",
        99_900,
        2,
    ),
    (
        "Bamboo Cutting Board Set",
        "Three boards in graded sizes, knife-friendly and naturally antimicrobial.",
        74_900,
        0,
    ),
    (
        "Mechanical Keyboard, Brown Switches",
        "Tenkeyless keyboard with tactile switches, PBT keycaps and USB-C.",
        459_900,
        1,
    ),
    (
        "Waterproof Trail Jacket",
        "Seam-sealed, breathable shell for monsoon commutes and weekend hikes; packs into its own pocket.",
        549_900,
        2,
    ),
]


def category_rows(count: int) -> list[tuple[str, str]]:
    """`count` categories as `(name, slug)`: the named list first, then numbered collections."""
    rows = []
    for index in range(count):
        name = CATEGORIES[index][0] if index < len(CATEGORIES) else f"Collection {index + 1}"
        rows.append((name, slugify(name)))
    return rows


def category_theme(index: int) -> str:
    return CATEGORIES[index % len(CATEGORIES)][1]


def product_slug(number: int) -> str:
    return f"product-{number:06d}"


def mix64(number: int) -> int:
    """splitmix64: a well-spread 64-bit hash of the product number."""
    x = (number * 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def product_for(number: int, *, categories: int) -> SeedProduct:
    """Product number `number` (1-based) of a catalog with `categories` categories."""
    created_at = CATALOG_EPOCH + timedelta(seconds=number * SECONDS_BETWEEN_PRODUCTS)
    slug = product_slug(number)
    if number <= len(CURATED):
        name, description, amount, category = CURATED[number - 1]
        return SeedProduct(slug, name, description, amount, category % categories, True, created_at)

    h = mix64(number)
    category, h = h % categories, h // categories
    theme = THEMES[category_theme(category)]
    nouns = theme.nouns
    low, high = theme.price
    brand, h = BRANDS[h % len(BRANDS)], h // len(BRANDS)
    adjective, h = ADJECTIVES[h % len(ADJECTIVES)], h // len(ADJECTIVES)
    noun, h = nouns[h % len(nouns)], h // len(nouns)
    variant, h = VARIANTS[h % len(VARIANTS)], h // len(VARIANTS)
    first, h = FEATURES[h % len(FEATURES)], h // len(FEATURES)
    second, h = FEATURES[h % len(FEATURES)], h // len(FEATURES)
    rupees, h = low + h % (high - low), h // (high - low)
    rupees = rupees - rupees % 50 + 49  # prices end in 49 or 99, as shops price them
    is_active = h % INACTIVE_ONE_IN != 0
    name = f"{brand} {adjective} {noun}{variant}"
    description = f"The {adjective.lower()} {noun.lower()} from {brand}: {first}, {second}."
    return SeedProduct(slug, name, description, rupees * 100, category, is_active, created_at)
