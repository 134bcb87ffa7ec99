"""What every benchmark module shares: the log line, the API prefix, a GET, and the checks ledger.

Free of Django imports, so `bench.run` can use it before `django.setup()`.
"""

from __future__ import annotations

import time

import requests

API = "/api/v1"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def auth_headers(token: str | None) -> dict[str, str]:
    """`Authorization: Bearer …` when there is a token, else no header."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def get(url: str, token: str | None = None) -> requests.Response:
    return requests.get(url, headers=auth_headers(token), timeout=30)


class Checks:
    """Every failed check of a run: a benchmark that measured wrong answers is not a result."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def expect(self, condition: bool, message: str) -> bool:
        if not condition:
            self.failures.append(message)
            print(f"  CHECK FAILED: {message}", flush=True)
        return condition
