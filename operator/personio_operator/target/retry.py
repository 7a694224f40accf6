"""When and how long to wait before repeating a SCIM request.

A 429 is always repeated after its ``Retry-After`` (the server refused the request, so it did
nothing). 5xx answers and timeouts are repeated with exponential backoff and jitter; the caller
decides whether a repeat is safe (a POST is not: after an unclear outcome it looks up first).
All retries of one client share a budget: once a wait would take it past ``budget_seconds`` from
the start of the client's session, it gives up with a ``TransientError``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

MAX_BACKOFF_SECONDS = 30.0


def backoff_seconds(attempt: int, *, base: float = 0.2) -> float:
    """Exponential backoff with full jitter for the ``attempt``-th repeat (1-based)."""
    ceiling = min(MAX_BACKOFF_SECONDS, base * (2 ** (attempt - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass
class RetryBudget:
    """A time budget for repeats (the client's, for all its requests), and an attempt count (per request)."""

    budget_seconds: float
    started: float = field(default_factory=time.monotonic)
    attempts: int = 0

    def remaining(self) -> float:
        return self.budget_seconds - (time.monotonic() - self.started)

    def allows(self, delay: float) -> bool:
        return delay < self.remaining()
