"""Account endpoints under /api/v1/auth/: tokens and the current user, passwords, verification."""
