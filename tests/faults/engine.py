"""How one fault is tried: inject it into a run, look at what the app holds, heal, run again, compare.

For each ``Scenario``:

1. a fault-free twin of the same world (recipe, seed, phase) is run once per session: its requests
   are the *baseline* from which the fault's request bound is made;
2. the world is built (for the "changes" phase: a clean first run, then the day's HR changes);
3. the fault is injected and the run goes (its ``during`` task alongside, e.g. revoking a token);
4. after it: no duplicate, no account wrongly deactivated, the hand-made user untouched, the
   outcome as promised, requests to each side within the bound, the per-object attempt cap kept;
5. the fault is healed and the next run must succeed and leave the app exactly as Personio says
   (anything missing or wrong is an object lost); a run after that must write nothing.

Bounds are in requests the servers answered (their own records), never the product's counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tests.apps.harness import RunTrace
from tests.apps.reading import Holdings
from tests.faults.ledger import LEDGER, FaultRecord, Requests, suite_seed
from tests.faults.world import SMALL, FaultWorld, Recipe, apply_changes, build_world
from tests.plugins.leaks import LeakCheck

ATTEMPT_CAP = 5  # attempts per request the product promises at most (README: "at most 5")
LOOKUPS = 2  # reads after a write whose outcome is unclear (by externalId, then by userName)
FAILING_BUDGET_SECONDS = 2.5  # the run budget where a fault outlasts it: the budget is not the subject


class Outcome(Enum):
    SUCCEEDS = "Succeeded"  # the retries absorb the fault
    FAILS = "Failed"  # the run must stop and say so (and the next run finish the work)
    EITHER = "Succeeded or Failed"  # per-object refusals: the product's threshold decides


@dataclass(frozen=True)
class Base:
    """What the fault-free run of the same world sent."""

    personio: int
    app: int
    app_writes: int
    app_by_kind: Counter[str]

    @classmethod
    def of(cls, trace: RunTrace) -> Base:
        return cls(trace.personio_total, len(trace.app_requests), len(trace.app_writes), trace.app_by_kind())

    def count(self, *kinds: str) -> int:
        return sum(self.app_by_kind[kind] for kind in kinds)


@dataclass(frozen=True)
class Bound:
    personio: int
    app: int
    app_writes: int


Inject = Callable[[FaultWorld], list[Any]]  # sets the faults, returns them (each has a ``fired`` count)
BoundRule = Callable[[Base, int], Bound]  # (baseline, faults fired) -> bound


@dataclass(frozen=True)
class Scenario:
    name: str
    inject: Inject
    outcome: Outcome
    bound: BoundRule
    recipe: Recipe = SMALL
    phase: str = "changes"  # "first": the faulty run is the first run; "changes": a day after it
    budget_seconds: float | None = None  # None: the harness's usual budget
    during: Callable[[FaultWorld, list[Any]], Awaitable[None]] | None = None
    per_object_cap: tuple[str, str] | None = None  # (method, path): repeats of one object's request

    @property
    def id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


# --- bound rules ---------------------------------------------------------------------------------------


def repeats(extra_per_fault: int = 1, writes_per_fault: int = 1) -> BoundRule:
    """A fault that fires a few times: each firing may cost one repeat (plus look-ups after an unclear write)."""
    return lambda base, fired: Bound(
        personio=base.personio,
        app=base.app + extra_per_fault * fired,
        app_writes=base.app_writes + writes_per_fault * fired,
    )


def personio_repeats(extra: int = 0) -> BoundRule:
    """A Personio fault that fires a few times: one repeat per firing (plus ``extra``, e.g. a new token)."""
    return lambda base, fired: Bound(personio=base.personio + fired + extra, app=base.app, app_writes=base.app_writes)


def persistent(*kinds: str, writes: bool) -> BoundRule:
    """A fault on every request of ``kinds``: each is tried at most ATTEMPT_CAP times (writes, after an
    unclear outcome, with LOOKUPS reads each)."""

    def rule(base: Base, fired: int) -> Bound:
        affected = base.count(*kinds)
        extra_reads = LOOKUPS * ATTEMPT_CAP * affected if writes else 0
        return Bound(
            personio=base.personio,
            app=base.app + (ATTEMPT_CAP - 1) * affected + extra_reads,
            app_writes=base.app_writes + ((ATTEMPT_CAP - 1) * affected if writes else 0),
        )

    return rule


def nothing_written(personio_extra: int = 0) -> BoundRule:
    """A fault the run must stop at before writing: reads of the app at most as usual, no write."""
    return lambda base, fired: Bound(
        personio=base.personio + personio_extra, app=base.app - base.app_writes, app_writes=0
    )


def personio_persistent() -> BoundRule:
    """Personio keeps failing one request: at most ATTEMPT_CAP tries of it, and nothing written."""
    return lambda base, fired: Bound(personio=base.personio + ATTEMPT_CAP, app=base.app - base.app_writes, app_writes=0)


# --- baselines -------------------------------------------------------------------------------------------

_baselines: dict[tuple[str, str, int], Base] = {}


async def baseline(recipe: Recipe, phase: str, seed: int) -> Base:
    """The fault-free run of this world, measured once per session on a twin world."""
    key = (recipe.name, phase, seed)
    if key not in _baselines:
        async with build_world(recipe, seed, LeakCheck()) as twin:
            await _prepare(twin, phase, seed)
            trace = await twin.run()
            problems = twin.problems()
            assert trace.report.succeeded and not problems, (
                f"the fault-free run of world {recipe.name}/{phase} does not succeed, so no fault can be judged: "
                f"{trace.report.error or problems[:5]}"
            )
            _baselines[key] = Base.of(trace)
    return _baselines[key]


async def _prepare(world: FaultWorld, phase: str, seed: int) -> None:
    if phase == "changes":
        await world.sync()
        apply_changes(world, seed)


# --- one fault ---------------------------------------------------------------------------------------------


@dataclass
class _Observed:
    duplicates: set[str] = field(default_factory=set)
    wrongly_deactivated: set[str] = field(default_factory=set)


async def try_fault(scenario: Scenario, leaks: LeakCheck) -> FaultRecord:
    seed = suite_seed()
    record = LEDGER.add(FaultRecord(scenario.name, expected=scenario.outcome.value))
    base = await baseline(scenario.recipe, scenario.phase, seed)
    async with build_world(scenario.recipe, seed, leaks) as world:
        await _prepare(world, scenario.phase, seed)
        observed = _Observed()
        before = world.holdings()

        faults = scenario.inject(world)
        budget = {"budget_seconds": scenario.budget_seconds} if scenario.budget_seconds else {}
        faulty = await _run_with(world, scenario, faults, budget)
        fired = sum(fault.fired for fault in faults)
        report = faulty.report
        record.outcome = report.result.value + (f" ({report.error_kind.value})" if report.error_kind else "")
        if scenario.outcome is not Outcome.EITHER and report.result.value != scenario.outcome.value:
            record.problems.append(f"the run {report.result.value.lower()}: {(report.error or '')[:300]}")
        bound = scenario.bound(base, fired)
        record.requests = {
            "personio": Requests(faulty.personio_total, bound.personio),
            "app": Requests(len(faulty.app_requests), bound.app),
            "app writes": Requests(len(faulty.app_writes), bound.app_writes),
        }
        if scenario.per_object_cap is not None:
            record.problems += _attempts_over_cap(faulty, *scenario.per_object_cap)
        during = world.holdings()
        _observe(world, before, during, observed)
        if _hand_made(world, during) != _hand_made(world, before):
            record.problems.append("the hand-made user was changed")

        world.heal()
        recovery = await world.run()
        after = world.holdings()
        _observe(world, during, after, observed)
        if not recovery.report.succeeded:
            record.problems.append(f"the run after the fault failed: {(recovery.report.error or '')[:300]}")
        lost = world.expected().check(after, world.dialect, world.rules)
        record.lost = len(lost)
        record.problems += [f"after the next run: {problem}" for problem in lost[:5]]
        rerun = await world.run()
        if rerun.app_writes:
            record.problems.append(
                f"the run after that wrote {len(rerun.app_writes)} (the app was not left complete): "
                + ", ".join(f"{r.method} {r.path}" for r in rerun.app_writes[:5])
            )
        record.duplicates = len(observed.duplicates)
        record.wrong_deactivations = len(observed.wrongly_deactivated)
        record.problems += sorted(observed.duplicates)[:5] + sorted(observed.wrongly_deactivated)[:5]
    record.leaks = len(leaks.findings())
    return record


async def _run_with(world: FaultWorld, scenario: Scenario, faults: list[Any], budget: dict[str, float]) -> RunTrace:
    if scenario.during is None:
        return await world.run(**budget)
    run = asyncio.create_task(world.run(**budget))
    side = asyncio.create_task(scenario.during(world, faults))
    try:
        return await run
    finally:
        side.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await side


def _observe(world: FaultWorld, before: Holdings, after: Holdings, observed: _Observed) -> None:
    observed.duplicates |= set(after.duplicates())
    should_be_active = set(world.expected().active)
    was_active = {pid for pid, user in before.managed_users().items() if user.get("active") is True}
    for pid, user in after.managed_users().items():
        if user.get("active") is not True and pid in should_be_active and pid in was_active:
            observed.wrongly_deactivated.add(f"person {pid} ({user.get('userName')}) was deactivated")
    hand_made = _hand_made(world, after)
    if hand_made is None or hand_made.get("active") is not True:
        observed.wrongly_deactivated.add("the hand-made user was deactivated or removed")


def _hand_made(world: FaultWorld, held: Holdings) -> dict[str, Any] | None:
    return next((user for user in held.users if user["id"] == world.hand_made_id), None)


def _attempts_over_cap(trace: RunTrace, method: str, path: str) -> list[str]:
    """Objects whose request (same method, path and body) was sent more often than the cap."""
    attempts = Counter(
        (request.path, request.body)
        for request in trace.app_requests
        if request.method == method and request.path.startswith(path)
    )
    over = [(key, count) for key, count in attempts.items() if count > ATTEMPT_CAP]
    return [f"{method} {key[0]} sent {count} times (cap {ATTEMPT_CAP}): {key[1][:80]!r}" for key, count in over[:5]]
