"""checkout views, split by area (carts, checkout, orders)."""

# A canonical UUID in a URL path; anything else is a plain 404 before a view runs.
UUID_REGEX = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
