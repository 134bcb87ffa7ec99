"""checkout commands: reconcile_payments."""
