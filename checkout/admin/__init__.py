"""The staff back-office for checkout, one module per screen: orders (with refunds, shipments and
CSV export), carts and shipping methods. No business rules here: statuses come from
checkout/states.py, refunds and shipments from their services, money formatting from
catalog/money.py."""

from checkout.admin import carts, orders, shipments
from checkout.admin.orders import order_status_counts

__all__ = ["carts", "order_status_counts", "orders", "shipments"]
