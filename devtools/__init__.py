"""Dev-only helpers shared by tests, bench/ and scripts/: real server processes on loopback.

Never in the production image (see .dockerignore), like fakestripe, tests and bench.
"""
