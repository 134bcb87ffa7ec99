"""Tests for the fakestripe Stripe stand-in, driven through the official SDK."""
