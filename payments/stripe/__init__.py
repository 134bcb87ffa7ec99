"""The Stripe provider: the only package that imports `stripe` or knows Stripe's strings."""
