"""Tests for accounts."""
