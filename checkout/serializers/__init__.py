"""Checkout serializers, one module per area (carts, checkout, orders)."""
