"""Payments: the provider-neutral boundary (interface), provider events and webhook intake."""
