"""The shared in-memory state of fakestripe: every object, event and key, its lock and --state-file.

The resource modules (``sessions``, ``payments``, ``refunds``, ``events``, ``idempotency``,
``faults``) read and change a :class:`Store` while holding ``store.lock``, so request threads may
share one. Changes that Stripe reports append event ids to ``outbox``, which the HTTP layer hands
to the webhook sender after the response has been written.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import threading
from pathlib import Path
from typing import Any

from fakestripe.clock import Clock
from fakestripe.errors import no_such

Obj = dict[str, Any]

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return a Stripe-looking random id such as ``pi_3Nf…``."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def lookup(table: dict[str, Obj], kind: str, obj_id: str, param: str = "id") -> Obj:
    """``table[obj_id]``, or Stripe's 404 ``No such <kind>: '<id>'`` naming ``param``."""
    found = table.get(obj_id)
    if found is None:
        raise no_such(kind, obj_id, param)
    return found


class Store:
    """All fake Stripe state plus the runtime knobs (faults, webhook config, clock)."""

    def __init__(
        self,
        base_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        state_file: str | None = None,
        settlement_currency: str = "usd",
    ) -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self.state_file = Path(state_file) if state_file else None
        self._initial_config: Obj = {
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "auto_deliver": True,
            "settlement_currency": settlement_currency,
        }
        self.config: Obj = dict(self._initial_config)
        self.generation = 0  # bumped on reset so stale webhook retries stop
        self.outbox: list[str] = []
        self._clear()
        if self.state_file and self.state_file.exists():
            self._load()

    def _clear(self) -> None:
        self.sessions: dict[str, Obj] = {}
        self.line_items: dict[str, list[Obj]] = {}
        # Per-session data Stripe does not show on the session (payment_intent_data).
        self.session_private: dict[str, Obj] = {}
        self.payment_intents: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.refunds: dict[str, Obj] = {}
        # Per-charge data Stripe does not show: the test card number that paid it.
        self.charge_private: dict[str, Obj] = {}
        self.shipping_rates: dict[str, Obj] = {}
        # Promotion codes made by the /_fake/promotion_codes control, by id.
        self.promotion_codes: dict[str, Obj] = {}
        self.events: list[Obj] = []  # {"event": {...}, "attempts": [...]}
        self.events_by_id: dict[str, Obj] = {}
        # (api_key, idempotency_key) -> {"fingerprint", "state", "created", "status", "body"}
        self.idempotency: dict[tuple[str, str], Obj] = {}
        self.faults: Obj = {"fail_next": 0, "status": 500, "latency_ms": 0, "stage": "edge"}
        self.clock = Clock()

    def reset(self) -> None:
        """Forget everything: objects, events, idempotency keys, faults, clock, config."""
        with self.lock:
            self._clear()
            self.config = dict(self._initial_config)
            self.generation += 1
            self.outbox = []
            self.save()

    def save(self) -> None:
        """Persist state to --state-file (atomic rename), if configured."""
        if not self.state_file:
            return
        with self.lock:
            data = {
                "sessions": self.sessions,
                "line_items": self.line_items,
                "session_private": self.session_private,
                "payment_intents": self.payment_intents,
                "charges": self.charges,
                "refunds": self.refunds,
                "charge_private": self.charge_private,
                "shipping_rates": self.shipping_rates,
                "promotion_codes": self.promotion_codes,
                "events": self.events,
                "idempotency": [[k[0], k[1], v] for k, v in self.idempotency.items() if v["state"] == "done"],
                "clock_offset": self.clock.offset,
            }
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.state_file)

    def _load(self) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text())
        self.sessions = data.get("sessions", {})
        self.line_items = data.get("line_items", {})
        self.session_private = data.get("session_private", {})
        self.payment_intents = data.get("payment_intents", {})
        self.charges = data.get("charges", {})
        self.refunds = data.get("refunds", {})
        self.charge_private = data.get("charge_private", {})
        self.shipping_rates = data.get("shipping_rates", {})
        self.promotion_codes = data.get("promotion_codes", {})
        self.events = data.get("events", [])
        self.events_by_id = {rec["event"]["id"]: rec for rec in self.events}
        self.idempotency = {(a, b): v for a, b, v in data.get("idempotency", [])}
        self.clock = Clock(int(data.get("clock_offset", 0)))
