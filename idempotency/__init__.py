"""Idempotency-Key on our own writes: a retried POST, PATCH or DELETE gets the first answer back."""
