"""Tests for idempotency (Idempotency-Key on our own writes)."""
