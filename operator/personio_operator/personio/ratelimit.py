"""Client-side mirror of Personio's per-endpoint token buckets.

Personio's gateway reports its bucket on every response (``x-ratelimit-replenish-rate`` tokens per
second, ``-burst-capacity``, ``-remaining``, ``-requested-tokens``) and sends 429 without
``Retry-After`` when it is empty. Pacing requests with the same bucket keeps a large fan-out (one
employments call per person) at the allowed rate instead of bouncing off 429s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum

REPLENISH_RATE = "x-ratelimit-replenish-rate"
BURST_CAPACITY = "x-ratelimit-burst-capacity"
REMAINING = "x-ratelimit-remaining"
REQUESTED_TOKENS = "x-ratelimit-requested-tokens"


@dataclass(frozen=True)
class RateLimitHeaders:
    replenish_rate: float | None
    burst_capacity: float | None
    remaining: float | None
    requested_tokens: float

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateLimitHeaders:
        return cls(
            replenish_rate=_positive(headers.get(REPLENISH_RATE)),
            burst_capacity=_positive(headers.get(BURST_CAPACITY)),
            remaining=_non_negative(headers.get(REMAINING)),
            requested_tokens=_positive(headers.get(REQUESTED_TOKENS)) or 1.0,
        )


def _non_negative(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


def _positive(raw: str | None) -> float | None:
    value = _non_negative(raw)
    return value if value else None


class _Mode(Enum):
    UNKNOWN = "unknown"  # nothing learned yet: one probe request at a time
    LIMITED = "limited"  # the endpoint reports a bucket
    UNLIMITED = "unlimited"  # a successful response carried no rate-limit headers


class RateLimiter:
    """Token bucket for one Personio endpoint, kept in step with the server's headers."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._mode = _Mode.UNKNOWN
        self._probe_lock = asyncio.Lock()
        self._rate = 0.0
        self._capacity = 0.0
        self._tokens = 0.0
        self._updated = clock()
        self._blocked_until = 0.0

    @property
    def replenish_rate(self) -> float | None:
        return self._rate if self._mode is _Mode.LIMITED else None

    @property
    def burst_capacity(self) -> float | None:
        return self._capacity if self._mode is _Mode.LIMITED else None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait until one request may be sent; call :meth:`observe` with its response inside the block."""
        await self._wait_unblocked()
        if self._mode is _Mode.UNKNOWN:
            async with self._probe_lock:
                if self._mode is _Mode.UNKNOWN:
                    yield
                    return
        await self._take_token()
        yield

    def observe(self, headers: Mapping[str, str], *, success: bool) -> None:
        info = RateLimitHeaders.parse(headers)
        if info.replenish_rate is None or info.remaining is None:
            if success and self._mode is _Mode.UNKNOWN:
                self._mode = _Mode.UNLIMITED
            return
        now = self._clock()
        if self._mode is _Mode.LIMITED:
            self._refill(now)
            self._tokens = min(self._tokens, info.remaining)
        else:
            self._tokens = info.remaining
            self._updated = now
        self._mode = _Mode.LIMITED
        self._rate = info.replenish_rate
        self._capacity = info.burst_capacity or max(info.replenish_rate, 1.0)

    def throttled(self, wait_seconds: float) -> None:
        """The server said 429: hold every request to this endpoint for ``wait_seconds``."""
        now = self._clock()
        self._blocked_until = max(self._blocked_until, now + wait_seconds)
        if self._mode is _Mode.LIMITED:
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)

    async def _wait_unblocked(self) -> None:
        # A loop, not an Event: another 429 may push the deadline further while we sleep.
        while (delay := self._blocked_until - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    async def _take_token(self) -> None:
        while self._mode is _Mode.LIMITED:
            await self._wait_unblocked()
            now = self._clock()
            self._refill(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self._rate)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now
