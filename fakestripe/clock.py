"""fakestripe's notion of now: real time plus an offset that ``POST /_fake/clock`` moves forward."""

from __future__ import annotations

import time


class Clock:
    """Fake time used for ``created``, ``expires_at`` and lazy session expiry."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def now(self) -> int:
        """Current fake time in Unix seconds."""
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> dict[str, int]:
        """Move the clock ``seconds`` forward; answer ``{"now", "offset"}``."""
        self.offset += seconds
        return {"now": self.now(), "offset": self.offset}
