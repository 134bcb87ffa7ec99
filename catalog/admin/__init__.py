"""The catalog back-office, one module per screen: categories and products (with their variants,
options and images inline), variants (stock levels, bulk stock adjustment) and the stock ledger.

No business rules here: stock changes go through catalog/stock.py (every one a ledger row), a
product's price follows its variants through catalog/variants.py `product_sync`, availability
and "low stock" come from catalog/availability.py, money formatting from catalog/money.py.
"""

from catalog.admin import ledger, products, variants

__all__ = ["ledger", "products", "variants"]
