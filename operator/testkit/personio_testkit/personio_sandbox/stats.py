"""Request counters per endpoint, readable by tests while the server runs."""

from __future__ import annotations

import threading
from collections import Counter


class SandboxStats:
    """Calls per endpoint (``"GET /v2/persons/{id}/employments"``), 429s sent, peak concurrency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._rate_limited = 0
        self._in_flight: Counter[str] = Counter()
        self._max_in_flight: Counter[str] = Counter()
        self._total_in_flight = 0
        self._max_total_in_flight = 0

    def __getitem__(self, endpoint: str) -> int:
        with self._lock:
            return self._calls[endpoint]

    def __repr__(self) -> str:
        return f"SandboxStats(calls={self.calls}, rate_limited={self.rate_limited})"

    @property
    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    @property
    def total_calls(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    @property
    def rate_limited(self) -> int:
        """Number of 429 responses sent."""
        with self._lock:
            return self._rate_limited

    @property
    def statuses(self) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses)

    @property
    def max_in_flight(self) -> int:
        """Most requests the sandbox was serving at the same moment (to check bounded concurrency)."""
        with self._lock:
            return self._max_total_in_flight

    def max_in_flight_for(self, endpoint: str) -> int:
        with self._lock:
            return self._max_in_flight[endpoint]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._statuses.clear()
            self._rate_limited = 0
            self._max_in_flight = Counter(self._in_flight)
            self._max_total_in_flight = self._total_in_flight

    def started(self, endpoint: str) -> None:
        with self._lock:
            self._calls[endpoint] += 1
            self._in_flight[endpoint] += 1
            self._total_in_flight += 1
            self._max_in_flight[endpoint] = max(self._max_in_flight[endpoint], self._in_flight[endpoint])
            self._max_total_in_flight = max(self._max_total_in_flight, self._total_in_flight)

    def responded(self, status: int) -> None:
        """Count a response's status; called before it is sent, so a client never reads stale counts."""
        with self._lock:
            self._statuses[status] += 1
            if status == 429:
                self._rate_limited += 1

    def finished(self, endpoint: str) -> None:
        with self._lock:
            self._in_flight[endpoint] -= 1
            self._total_in_flight -= 1
