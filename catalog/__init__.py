"""The product catalog: categories and products, public and read-only over the API."""
