"""Tests for checkout."""
