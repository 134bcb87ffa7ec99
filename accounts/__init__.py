"""Customer and staff accounts: registration, JWT tokens, the current user."""
