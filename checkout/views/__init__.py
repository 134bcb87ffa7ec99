"""checkout views, split by area (carts, checkout, orders, refunds)."""
