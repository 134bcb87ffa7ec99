"""checkout selectors, split by area (carts, checkout, orders, refunds)."""
