"""Signed webhook delivery with Stripe's ``Stripe-Signature`` header and quick retries."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from fakestripe.signing import sign
from fakestripe.store import Store

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)  # => at most 5 attempts
TIMEOUT = 5.0


def _post(url: str, payload: bytes, secret: str | None) -> tuple[int | None, str | None]:
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0"}
    if secret:
        headers["Stripe-Signature"] = sign(payload, secret)
    if not url.startswith(("http://", "https://")):
        return None, f"unsupported webhook URL scheme: {url!r}"
    req = urllib.request.Request(url, data=payload, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
            resp.read()
            return int(resp.status), None
    except urllib.error.HTTPError as exc:
        return int(exc.code), None
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


class Sender:
    """Delivers recorded events to the configured webhook URL."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def deliver_once(self, event_id: str, trigger: str) -> dict[str, Any]:
        """One synchronous attempt; records it and returns ``{status, error}``."""
        with self.store.lock:
            rec = self.store.events_by_id.get(event_id)
            url = self.store.config.get("webhook_url")
            secret = self.store.config.get("webhook_secret")
            if rec is None:
                return {"status": None, "error": "no such event"}
            if not url:
                return {"status": None, "error": "no webhook_url configured"}
            payload = json.dumps(rec["event"], indent=2).encode()
        status, error = _post(str(url), payload, secret)
        ok = status is not None and 200 <= status < 300
        with self.store.lock:
            rec["attempts"].append({"at": time.time(), "status": status, "error": error, "trigger": trigger})
            rec["last_status"] = status
            if ok:
                rec["delivered"] = True
                rec["event"]["pending_webhooks"] = 0
        return {"status": status, "error": error}

    def _run(self, event_id: str, generation: int) -> None:
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                time.sleep(RETRY_DELAYS[attempt - 1])
            with self.store.lock:
                if self.store.generation != generation or not self.store.config.get("webhook_url"):
                    return
            result = self.deliver_once(event_id, "auto")
            status = result["status"]
            if status is not None and 200 <= status < 300:
                return

    def dispatch(self, event_ids: list[str]) -> None:
        """Start background delivery for freshly created events (if auto_deliver)."""
        with self.store.lock:
            if not event_ids or not self.store.config.get("auto_deliver", True):
                return
            if not self.store.config.get("webhook_url"):
                return
            generation = self.store.generation
        for event_id in event_ids:
            threading.Thread(target=self._run, args=(event_id, generation), daemon=True).start()
