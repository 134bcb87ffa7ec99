"""`manage.py` commands for the catalog (seed_catalog)."""
