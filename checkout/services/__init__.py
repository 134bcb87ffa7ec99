"""checkout services, split by area (carts, checkout, orders, refunds)."""
