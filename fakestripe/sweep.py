"""Background expiry: open Checkout Sessions expire at ``expires_at`` even if nobody reads them.

A daemon thread wakes every ``interval`` seconds of real time, expires the sessions that are due
on fakestripe's clock (``checkout.session.expired`` for each, exactly once: it shares
:func:`fakestripe.sessions.sessions_expire_due` and ``store.lock`` with lazy expiry on read) and
hands the new events to the webhook sender. :meth:`Sweeper.stop` ends it and waits for it.
"""

from __future__ import annotations

import threading

from fakestripe.events import event_take_outbox
from fakestripe.sessions import sessions_expire_due
from fakestripe.store import Store
from fakestripe.webhooks import Sender

SWEEP_INTERVAL = 0.5  # seconds of real time


class Sweeper:
    """The expiry thread of one server."""

    def __init__(self, store: Store, sender: Sender, interval: float = SWEEP_INTERVAL) -> None:
        self.store = store
        self.sender = sender
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sweeping (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="fakestripe-sweep", daemon=True)
            self._thread.start()

    def sweep(self) -> int:
        """One pass: expire what is due, persist and dispatch; return how many events it made."""
        made = sessions_expire_due(self.store)
        if made:
            self.store.save()
            self.sender.dispatch(event_take_outbox(self.store))
        return made

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sweep()

    def stop(self) -> None:
        """Stop the thread and wait for a running pass to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
