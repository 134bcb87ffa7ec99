"""Account writes, one module per flow: registration, tokens, passwords, email verification."""
