"""The staff back-office for checkout, one module per screen: orders (with refunds and CSV export) and
carts. No business rules here: statuses come from checkout/states.py, refunds from the refund
service, money formatting from catalog/money.py."""

from checkout.admin import carts, orders
from checkout.admin.orders import order_status_counts

__all__ = ["carts", "order_status_counts", "orders"]
