"""The scheduler task on its own: when it looks at an integration, and when it does not.

The worker here only records what the scheduler asks of it (the real one, the reconciler, is exercised
by the operator-in-the-loop tests); integrations are parsed from objects like any watch event's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from personio_operator.controller.clock import ManualClock
from personio_operator.controller.decide import IDLE, Action, ActionKind
from personio_operator.controller.integration import Integration
from personio_operator.controller.scheduler import Job, Plan, Scheduler
from tests.controller.conftest import START
from tests.controller.harness import eventually, stays
from tests.controller.objects import SPEC


@dataclass
class Worker:
    """Plans with ``plans`` (by resourceVersion), records each job; a RUN job waits for ``slot`` first and
    then, like a run that wrote its status, leaves nothing more to do for that version."""

    clock: ManualClock
    plans: dict[str | None, Plan] = field(default_factory=dict)
    done: list[tuple[str | None, ActionKind]] = field(default_factory=list)
    cancelled: list[ActionKind] = field(default_factory=list)
    slot: asyncio.Event = field(default_factory=asyncio.Event)
    scheduler: Scheduler | None = None

    planned: list[str | None] = field(default_factory=list)

    def plan(self, item: Integration) -> Plan:
        self.planned.append(item.resource_version)
        return self.plans.get(item.resource_version, Plan(IDLE))

    async def work(self, job: Job) -> None:
        try:
            if job.action.kind is ActionKind.RUN:
                job.waiting = True
                await self.slot.wait()
                job.waiting = False
            item = self.scheduler.latest(job.key)
            assert item is not None
            job.acts(item, job.action)
            self.done.append((item.resource_version, job.action.kind))
            if job.action.kind is ActionKind.RUN:
                self.plans[item.resource_version] = Plan(IDLE)
        except asyncio.CancelledError:
            self.cancelled.append(job.action.kind)
            raise


def version(rv: str) -> Integration:
    """The integration tenant-acme/acme at resourceVersion ``rv``."""
    meta = {"namespace": "tenant-acme", "name": "acme", "uid": "uid-1", "resourceVersion": rv}
    return Integration.parse({"metadata": meta, "spec": SPEC})


async def running(scheduler: Scheduler):
    scheduler.worker.scheduler = scheduler
    scheduler.start()
    await asyncio.sleep(0)


async def test_an_idle_integration_is_looked_at_when_its_slot_comes_and_not_before():
    clock = ManualClock(START)
    slot = START + timedelta(hours=18)
    worker = Worker(clock)
    worker.plans["1"] = Plan(IDLE, due=slot)
    scheduler = Scheduler(clock, worker, retry_seconds=3600)
    await running(scheduler)
    try:
        scheduler.observe(version("1"))
        await stays(lambda: not worker.done, seconds=0.3, what="nothing before the slot")
        worker.plans["1"] = Plan(Action(ActionKind.RUN), due=slot)
        worker.slot.set()
        clock.set(slot)  # from the test's side, like the test clock of the operator tests
        await eventually(lambda: worker.done == [("1", ActionKind.RUN)], within=5, what="the slot's run")
    finally:
        await scheduler.stop_deciding()
        await scheduler.drain(grace_seconds=1)


async def test_a_status_action_that_did_not_change_the_object_is_not_repeated_at_once():
    clock = ManualClock(START)
    worker = Worker(clock)
    worker.plans["1"] = Plan(Action(ActionKind.REFRESH))  # as if the API server pruned what was written
    scheduler = Scheduler(clock, worker, retry_seconds=3600)
    await running(scheduler)
    try:
        scheduler.observe(version("1"))
        await eventually(lambda: worker.done, within=5, what="the first attempt")
        await stays(lambda: worker.done == [("1", ActionKind.REFRESH)], seconds=0.3, what="no loop")
        scheduler.observe(version("2"))  # the object changed: its new version is looked at at once
        worker.plans["2"] = Plan(Action(ActionKind.REFRESH))
        await eventually(lambda: ("2", ActionKind.REFRESH) in worker.done, within=5, what="the new version")
    finally:
        await scheduler.stop_deciding()
        await scheduler.drain(grace_seconds=1)


async def test_a_job_waiting_for_a_run_slot_gives_way_when_what_should_happen_changes():
    clock = ManualClock(START)
    worker = Worker(clock)
    worker.plans["1"] = Plan(Action(ActionKind.RUN))
    worker.plans["2"] = Plan(Action(ActionKind.MARK_INACTIVE))
    scheduler = Scheduler(clock, worker, retry_seconds=3600)
    await running(scheduler)
    try:
        scheduler.observe(version("1"))
        await eventually(lambda: [job.waiting for job in scheduler.jobs()] == [True], within=5, what="waiting")
        scheduler.observe(version("2"))  # e.g. switched off
        await eventually(lambda: worker.done == [("2", ActionKind.MARK_INACTIVE)], within=5, what="at once")
        assert worker.cancelled == [ActionKind.RUN]
    finally:
        await scheduler.stop_deciding()
        await scheduler.drain(grace_seconds=1)


async def test_an_older_view_of_an_object_does_not_replace_a_newer_one():
    clock = ManualClock(START)
    scheduler = Scheduler(clock, Worker(clock), retry_seconds=3600)
    newer, older = version("12"), version("9")
    scheduler.observe(newer)
    scheduler.observe(older)
    assert scheduler.latest(newer.key) is newer


async def test_the_same_version_again_is_not_looked_at_again():
    """The watch lists every object again when it reconnects: nothing to decide for versions already held."""
    clock = ManualClock(START)
    worker = Worker(clock)
    scheduler = Scheduler(clock, worker, retry_seconds=3600)
    await running(scheduler)
    try:
        scheduler.observe(version("1"))
        await eventually(lambda: worker.planned == ["1"], within=5, what="the first look")
        scheduler.observe(version("1"))
        await stays(lambda: worker.planned == ["1"], seconds=0.3, what="no second look")
        scheduler.observe(version("2"))
        await eventually(lambda: worker.planned == ["1", "2"], within=5, what="the new version looked at")
    finally:
        await scheduler.stop_deciding()
        await scheduler.drain(grace_seconds=1)
