"""idempotency commands: purge_idempotency_keys."""
