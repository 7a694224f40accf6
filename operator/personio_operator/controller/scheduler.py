"""The operator's one scheduler task: when to look at which integration.

Watch events hand it each integration parsed once (:meth:`Scheduler.observe`); it keeps the latest of
each and decides at once. The work for one integration runs as one job at a time. An idle integration
waits in a heap until its next schedule slot (on the controller's clock) or, while paused, its next
Secret check (on the monotonic clock). The task sleeps until the earliest of those, or until an event,
a finished job or a clock change wakes it: no timer per object, no polling of the API server, and no
finalizer on any object (kopf adds one only for timers, daemons and on-delete handlers).

A job waiting for a run slot has written nothing: when an event changes what should happen (switched
off, a Test asked for), it is cancelled and the new action starts at once. Any other job (a run in
flight) is not cancelled by an event; its integration is looked at again when it ends. A job that
fails, or an action that did not change the object, is tried again after a back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from personio_operator.controller.clock import Clock
from personio_operator.controller.decide import Action, ActionKind
from personio_operator.controller.integration import Integration, Key

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 300.0  # read the clock again at least this often (a wall clock may jump)
MAX_BACKOFF_SECONDS = 300.0
# Actions that write status (a run and a Test too, before or after): the same one twice on the same
# resourceVersion means the write did not take, and repeating it at once would spin.
_WRITES_STATUS = frozenset(ActionKind) - {ActionKind.CHECK_SECRETS, ActionKind.IDLE}


@dataclass(frozen=True)
class Plan:
    """What to do now, and when to look again if nothing."""

    action: Action
    due: datetime | None = None  # the next schedule slot (controller clock)
    check_at: float | None = None  # the next Secret check of a paused integration (time.monotonic)


class Job:
    """One integration's work in progress."""

    def __init__(self, key: Key, action: Action) -> None:
        self.key = key
        self.action = action
        self.waiting = False  # for a run slot: nothing written yet, an event may cancel the job
        self.acted_on: tuple[str | None, ActionKind] | None = None
        self.task: asyncio.Task[None] | None = None

    def acts(self, item: Integration, action: Action) -> None:
        """Called before the first write: what the job does, on which version of the object."""
        self.acted_on = (item.resource_version, action.kind)


class Worker(Protocol):
    def plan(self, item: Integration) -> Plan: ...

    async def work(self, job: Job) -> None: ...


class Scheduler:
    def __init__(self, clock: Clock, worker: Worker, *, retry_seconds: float) -> None:
        self.clock = clock
        self.worker = worker
        self.retry_seconds = retry_seconds
        self._items: dict[Key, Integration] = {}
        self._jobs: dict[Key, Job] = {}
        self._ready: dict[Key, None] = {}  # looked at on the next pass, in order
        self._slots: list[tuple[datetime, int, Key]] = []
        self._timers: list[tuple[float, int, Key]] = []
        self._entry: dict[Key, int] = {}  # the live heap entry of each key; older ones are skipped
        self._numbers = itertools.count()
        self._failures: dict[Key, int] = {}
        self._last: dict[Key, tuple[str | None, ActionKind]] = {}  # what the last job did, on which version
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] = lambda: None

    # -- what the watch (and the controller's own reads and writes) tell -----------------------------

    def latest(self, key: Key) -> Integration | None:
        return self._items.get(key)

    def observe(self, item: Integration) -> None:
        """The integration as it is now; a view older than the one held, or the same version again, is ignored
        (what to do with a version is decided once, and again only when a job ends or its time comes)."""
        if item.deleting:
            self.remove(item.key)
            return
        held = self._items.get(item.key)
        if held is not None and (_older(item, held) or _same(item, held)):
            return
        self._items[item.key] = item
        self._ready[item.key] = None
        self._wake.set()

    def remove(self, key: Key) -> None:
        """The integration is gone (or left this operator's selection): forget it, stop its work."""
        self._items.pop(key, None)
        self._ready.pop(key, None)
        self._entry.pop(key, None)
        self._failures.pop(key, None)
        self._last.pop(key, None)
        job = self._jobs.pop(key, None)
        if job is not None and job.task is not None:
            job.task.cancel()

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    # -- the task ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.clock.subscribe(self._clock_moved)
        self._task = asyncio.create_task(self._run(), name="personio-operator scheduler")

    async def stop_deciding(self) -> None:
        """No more decisions, and no job that only waits for a run slot."""
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for job in self._jobs.values():
            if job.waiting and job.task is not None:
                job.task.cancel()

    async def drain(self, *, grace_seconds: float) -> None:
        """Give the jobs left ``grace_seconds`` to end, then cancel them."""
        tasks = [job.task for job in self._jobs.values() if job.task is not None and not job.task.done()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)

    def _clock_moved(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._collect_due()
            while self._ready:
                key = next(iter(self._ready))
                del self._ready[key]
                try:
                    self._look_at(key)
                except Exception:  # a bug in one decision must not stop the scheduling of all
                    log.exception("Could not decide what to do with %s/%s", *key)
                    self._retry_later(key)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that comes as the
            # wake-up does, and a busy scheduler then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sleep_seconds()):
                    await self._wake.wait()

    def _look_at(self, key: Key) -> None:
        item = self._items.get(key)
        if item is None:
            return
        plan = self.worker.plan(item)
        job = self._jobs.get(key)
        if job is not None:
            if not job.waiting or job.action.kind is plan.action.kind:
                return  # looked at again when the job ends
            assert job.task is not None
            job.task.cancel()  # it only waited for a run slot: what should happen has changed
            del self._jobs[key]
        if plan.action.kind is ActionKind.IDLE:
            self._wait_for(key, plan)
            return
        if self._last.get(key) == (item.resource_version, plan.action.kind) and plan.action.kind in _WRITES_STATUS:
            log.warning(
                "%s on %s/%s did not change the object; trying again later (is the CRD up to date?)",
                plan.action.kind.value,
                *key,
            )
            self._retry_later(key)
            return
        self._entry.pop(key, None)
        job = Job(key, plan.action)
        job.task = asyncio.create_task(self._do(job), name=f"{plan.action.kind.value} {key[0]}/{key[1]}")
        self._jobs[key] = job

    async def _do(self, job: Job) -> None:
        try:
            await self.worker.work(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # the worker reported it; try again later
            self._finished(job, failed=True)
        else:
            self._finished(job, failed=False)

    def _finished(self, job: Job, *, failed: bool) -> None:
        if self._jobs.get(job.key) is not job:
            return  # cancelled and replaced, or the integration is gone
        del self._jobs[job.key]
        if job.acted_on is not None:
            self._last[job.key] = job.acted_on
        if failed:
            self._retry_later(job.key)
        else:
            self._failures.pop(job.key, None)
            self._ready[job.key] = None
            self._wake.set()

    # -- waiting ----------------------------------------------------------------------------------

    def _wait_for(self, key: Key, plan: Plan) -> None:
        number = next(self._numbers)
        self._entry[key] = number
        if plan.due is not None:
            heapq.heappush(self._slots, (plan.due, number, key))
        if plan.check_at is not None:
            heapq.heappush(self._timers, (plan.check_at, number, key))

    def _retry_later(self, key: Key) -> None:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = min(MAX_BACKOFF_SECONDS, self.retry_seconds * 2 ** (failures - 1))
        number = next(self._numbers)
        self._entry[key] = number
        heapq.heappush(self._timers, (time.monotonic() + delay, number, key))
        self._wake.set()

    def _collect_due(self) -> None:
        now, moment = self.clock.now(), time.monotonic()
        for heap, reached in ((self._slots, now), (self._timers, moment)):
            while heap and heap[0][0] <= reached:  # type: ignore[operator]
                _, number, key = heapq.heappop(heap)
                if self._entry.get(key) == number:
                    del self._entry[key]
                    self._ready[key] = None

    def _sleep_seconds(self) -> float:
        self._drop_stale()
        seconds = MAX_SLEEP_SECONDS
        if self._slots:
            seconds = min(seconds, (self._slots[0][0] - self.clock.now()).total_seconds())
        if self._timers:
            seconds = min(seconds, self._timers[0][0] - time.monotonic())
        return max(seconds, 0.0)

    def _drop_stale(self) -> None:
        for heap in (self._slots, self._timers):
            while heap and self._entry.get(heap[0][2]) != heap[0][1]:
                heapq.heappop(heap)


def _same(item: Integration, held: Integration) -> bool:
    return item.resource_version is not None and (item.uid, item.resource_version) == (held.uid, held.resource_version)


def _older(item: Integration, held: Integration) -> bool:
    """Whether ``item`` is an older version of the same object than ``held``. resourceVersions are opaque
    to clients, but every API server in use numbers them; anything else counts as newer."""
    if item.uid != held.uid or item.resource_version is None or held.resource_version is None:
        return False
    if not (item.resource_version.isdigit() and held.resource_version.isdigit()):
        return False
    return int(item.resource_version) < int(held.resource_version)
