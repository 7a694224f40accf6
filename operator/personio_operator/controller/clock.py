"""Where the controller gets "now" from: the system clock, or a clock tests set by hand."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from any thread) whenever the time jumps other than by passing; returns
        what ends the subscription."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """The system clock only passes (the scheduler re-reads it at least every few minutes anyway)."""
        return lambda: None


class ManualClock:
    """A clock that only moves when told to (tests, demos); whoever subscribed hears of every move."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware times")
        self._now = moment
        self._moved()

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self._moved()

    def _moved(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback()
