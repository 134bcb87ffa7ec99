"""idempotency management commands."""
