"""fakestripe: a local, in-memory stand-in for the parts of Stripe's HTTP API we use.

Dev and test only. Run it with ``python -m fakestripe``; see README.md in this folder.
"""

__all__ = ["API_VERSION"]

API_VERSION = "2026-10-28.endive"
