"""The sandbox's clock: real time by default, movable by tests (token expiry, rate-limit refill)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Monotonic seconds and UTC wall time, both shifted by ``advance()``.

    ``frozen=True`` stops the monotonic part from moving by itself, so rate-limit buckets only
    refill when a test advances the clock (deterministic 429s).
    """

    def __init__(self, *, frozen: bool = False, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        self._offset = 0.0
        self._real_start = time.monotonic()
        self._wall_start = start or datetime.now(UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("A clock only moves forward: pass a positive number of seconds.")
        with self._lock:
            self._offset += seconds

    def monotonic(self) -> float:
        """Seconds since the clock was created (plus every advance)."""
        elapsed = 0.0 if self._frozen else time.monotonic() - self._real_start
        with self._lock:
            return elapsed + self._offset

    def now(self) -> datetime:
        """Timezone-aware UTC time as the sandbox sees it."""
        return self._wall_start + timedelta(seconds=self.monotonic())
