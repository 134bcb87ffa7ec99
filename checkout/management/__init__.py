"""Management commands of the checkout app."""
