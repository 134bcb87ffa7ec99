"""End-to-end tests against live server processes."""
