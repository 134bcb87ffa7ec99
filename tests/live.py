"""The live gunicorn helpers for the tests (tests/e2e).

They live in :mod:`devtools.live`, shared with bench/ and scripts/contract_test.py.
"""

from __future__ import annotations

from devtools.live import ROOT, LiveServer, free_port, server_env, start_gunicorn, wait_for_http

__all__ = ["ROOT", "LiveServer", "free_port", "server_env", "start_gunicorn", "wait_for_http"]
