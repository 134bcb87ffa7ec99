"""Run ``python -m fakestripe`` as a real subprocess and drive its ``/_fake/`` control API.

Shared by the tests (through the fixtures in tests/stripe_fixtures.py), bench/ and
scripts/contract_test.py. ``start_fakestripe()`` binds a free port on 127.0.0.1 and returns a
:class:`FakeStripeServer` once it answers; its caller stops it.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import stripe

from devtools.live import stop_process

REPO_ROOT = Path(__file__).resolve().parents[1]
_LISTEN_PREFIX = "fakestripe listening on "


class FakeStripeServer:
    """A running ``python -m fakestripe`` subprocess plus helpers for its control API."""

    def __init__(self, proc: subprocess.Popen[str], base_url: str, log_path: str) -> None:
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path
        self.http = requests.Session()

    # ------------------------------------------------------------- lifecycle
    def stop(self) -> None:
        """Terminate the process (kill if it does not exit within 5 s)."""
        self.http.close()
        stop_process(self.proc, grace=5)
        if self.proc.stdout:
            self.proc.stdout.close()

    def client(self, api_key: str = "sk_test_fake", timeout: float | None = None) -> stripe.StripeClient:
        """A ``stripe.StripeClient`` for this server (no retries; optional HTTP timeout)."""
        return make_stripe_client(self.base_url, api_key=api_key, timeout=timeout)

    # -------------------------------------------------------------- controls
    def _post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base_url + path, timeout=30, **kwargs)

    def pay(self, session_id: str, card: str = "4242424242424242") -> requests.Response:
        """POST /_fake/checkout/sessions/{id}/pay; 200 session JSON or a Stripe error."""
        return self._post(f"/_fake/checkout/sessions/{session_id}/pay", data={"card": card})

    def settle(self, session_id: str, outcome: str = "succeeded") -> requests.Response:
        """POST /_fake/checkout/sessions/{id}/settle with ``succeeded`` or ``failed``."""
        return self._post(f"/_fake/checkout/sessions/{session_id}/settle", data={"outcome": outcome})

    def settle_refund(
        self, refund_id: str, outcome: str, failure_reason: str | None = None
    ) -> requests.Response:
        """POST /_fake/refunds/{id}/settle: a pending refund succeeds or fails; a succeeded one fails."""
        data = {"outcome": outcome, **({"failure_reason": failure_reason} if failure_reason else {})}
        return self._post(f"/_fake/refunds/{refund_id}/settle", data=data)

    def faults(self, **body: Any) -> dict[str, Any]:
        """POST /_fake/faults, e.g. ``faults(fail_next=1, status=500)``; no args clears."""
        resp = self._post("/_fake/faults", json=body)
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def config(self, **body: Any) -> dict[str, Any]:
        """POST /_fake/config: ``webhook_url``, ``webhook_secret``, ``auto_deliver``."""
        resp = self._post("/_fake/config", json=body)
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """GET /_fake/events: records ``{event, attempts, last_status, delivered}`` in order."""
        params = {"type": type} if type else None
        resp = self.http.get(self.base_url + "/_fake/events", params=params, timeout=30)
        resp.raise_for_status()
        data: list[dict[str, Any]] = resp.json()["data"]
        return data

    def deliver(self, event_id: str) -> dict[str, Any]:
        """POST /_fake/events/{id}/deliver: one synchronous attempt, ``{status, error}``."""
        resp = self._post(f"/_fake/events/{event_id}/deliver")
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def advance_clock(self, seconds: int) -> int:
        """POST /_fake/clock: move fakestripe's notion of now forward; returns new now."""
        resp = self._post("/_fake/clock", json={"advance_seconds": seconds})
        resp.raise_for_status()
        return int(resp.json()["now"])

    def reset(self) -> None:
        """POST /_fake/reset: forget all state, faults, clock and runtime config."""
        self._post("/_fake/reset").raise_for_status()


def make_stripe_client(
    base_url: str, api_key: str = "sk_test_fake", timeout: float | None = None
) -> stripe.StripeClient:
    """``stripe.StripeClient`` aimed at ``base_url`` with retries off.

    ``timeout`` (seconds) goes through ``stripe.RequestsClient(timeout=…)`` as ``http_client``.
    """
    http_client = stripe.RequestsClient(timeout=timeout) if timeout is not None else None
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url},
        max_network_retries=0,
        http_client=http_client,
    )


def start_fakestripe(
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    *,
    startup_timeout: float = 15.0,
) -> FakeStripeServer:
    """Start ``python -m fakestripe --port 0`` and wait until it answers HTTP."""
    cmd = [sys.executable, "-m", "fakestripe", "--host", "127.0.0.1", "--port", "0"]
    if webhook_url:
        cmd += ["--webhook-url", webhook_url]
    if webhook_secret:
        cmd += ["--webhook-secret", webhook_secret]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    log = tempfile.NamedTemporaryFile(prefix="fakestripe-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        cmd,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    log.close()
    deadline = time.monotonic() + startup_timeout
    base_url: str | None = None
    assert proc.stdout is not None
    try:
        while base_url is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                raise RuntimeError(
                    f"fakestripe did not start (exit={proc.poll()}): "
                    + Path(log.name).read_text(errors="replace")[-2000:]
                )
            ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 0.5))
            if ready:
                line = proc.stdout.readline()
                if line.startswith(_LISTEN_PREFIX):
                    base_url = line[len(_LISTEN_PREFIX) :].strip()
        server = FakeStripeServer(proc, base_url, log.name)
        while True:
            try:
                if server.http.get(base_url + "/_fake/health", timeout=1).ok:
                    return server
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("fakestripe printed its port but never answered")
            time.sleep(0.05)
    except BaseException:
        proc.kill()
        proc.wait(timeout=5)
        raise
