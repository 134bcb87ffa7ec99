"""Tests for catalog."""
