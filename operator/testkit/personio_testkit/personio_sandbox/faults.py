"""Faults tests switch on: error statuses, slow responses, and paging faults (lost or repeated data)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

PageFaultKind = Literal["drop", "duplicate", "repeat_cursor"]


@dataclass
class RequestFault:
    """Answer matching requests with ``status`` and/or after ``delay_seconds``.

    A request matches when its path starts with ``path_prefix`` (and ends with ``path_suffix``,
    and has ``method``, when given). Only every ``every``-th matching request is hit; the fault
    fires ``times`` times (None = until cleared).
    """

    path_prefix: str
    status: int | None = None
    delay_seconds: float = 0.0
    times: int | None = 1
    method: str | None = None
    path_suffix: str | None = None
    every: int = 1
    seen: int = 0
    fired: int = 0

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.path_suffix and not path.endswith(self.path_suffix):
            return False
        return path.startswith(self.path_prefix)


@dataclass
class PageFault:
    """Spoil page ``page_index`` (0-based) of list endpoint ``path``.

    ``drop``: keep only the first ``keep`` items but still link to the normal next page (the rest
    is silently lost). ``duplicate``: repeat the previous page's last record at the top of this page.
    ``repeat_cursor``: link ``next`` to this same page again (a paging loop).
    """

    kind: PageFaultKind
    path: str
    page_index: int = 1
    keep: int = 0
    times: int | None = 1
    fired: int = 0

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultInjector:
    """Thread-safe list of active faults; exhausted faults drop out by themselves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request_faults: list[RequestFault] = []
        self._page_faults: list[PageFault] = []

    def __repr__(self) -> str:
        return f"FaultInjector(request_faults={self._request_faults}, page_faults={self._page_faults})"

    def add(
        self,
        path_prefix: str,
        *,
        status: int | None = None,
        delay_seconds: float = 0.0,
        times: int | None = 1,
        method: str | None = None,
        path_suffix: str | None = None,
        every: int = 1,
    ) -> RequestFault:
        """E.g. ``add("/v2/persons", status=502, times=2)`` or ``add("/v1", delay_seconds=5)``."""
        if status is None and delay_seconds <= 0:
            raise ValueError("A fault needs a status, a delay_seconds > 0, or both.")
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"Fault status must be an HTTP error (400-599), not {status}.")
        if every < 1 or (times is not None and times < 1):
            raise ValueError("every and times must be 1 or more (times=None: until cleared).")
        fault = RequestFault(
            path_prefix=path_prefix,
            status=status,
            delay_seconds=delay_seconds,
            times=times,
            method=method,
            path_suffix=path_suffix,
            every=every,
        )
        with self._lock:
            self._request_faults.append(fault)
        return fault

    def intermittent_404(self, *, every: int = 3, times: int | None = None) -> RequestFault:
        """404 on every ``every``-th employments call (a reported Personio flake)."""
        return self.add("/v2/persons/", status=404, path_suffix="/employments", every=every, times=times)

    def drop_page(self, path: str = "/v2/persons", *, page_index: int = 1, keep: int = 0, times: int = 1) -> PageFault:
        return self._add_page_fault(PageFault("drop", path, page_index, keep, times))

    def duplicate_record(self, path: str = "/v2/persons", *, page_index: int = 1, times: int = 1) -> PageFault:
        if page_index < 1:
            raise ValueError("duplicate_record repeats the previous page's last record: page_index must be >= 1.")
        return self._add_page_fault(PageFault("duplicate", path, page_index, 0, times))

    def repeat_cursor(self, path: str = "/v2/persons", *, page_index: int = 1, times: int | None = 1) -> PageFault:
        return self._add_page_fault(PageFault("repeat_cursor", path, page_index, 0, times))

    def clear(self) -> None:
        with self._lock:
            self._request_faults.clear()
            self._page_faults.clear()

    @property
    def active(self) -> list[RequestFault | PageFault]:
        with self._lock:
            return [f for f in (*self._request_faults, *self._page_faults) if not f.exhausted()]

    def take_request_fault(self, method: str, path: str) -> RequestFault | None:
        """The fault to apply to this request (counted as fired), if any."""
        with self._lock:
            for fault in self._request_faults:
                if fault.exhausted() or not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen % fault.every == 0:
                    fault.fired += 1
                    return fault
            return None

    def take_page_faults(self, path: str, page_index: int) -> list[PageFault]:
        with self._lock:
            hits = [
                f
                for f in self._page_faults
                if not f.exhausted() and f.path.rstrip("/") == path.rstrip("/") and f.page_index == page_index
            ]
            for fault in hits:
                fault.fired += 1
            return hits

    def _add_page_fault(self, fault: PageFault) -> PageFault:
        if fault.page_index < 0 or fault.keep < 0:
            raise ValueError("page_index and keep must be 0 or more.")
        with self._lock:
            self._page_faults.append(fault)
        return fault
