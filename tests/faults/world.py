"""A small company, a Personio sandbox, a scim2-server app with fault injection, and the runs between.

A ``Recipe`` says which company and which rules; ``build_world`` makes one (and stops it on exit).
``apply_changes`` turns the company's usual day (two hires, a leaver, a move, a department rename,
a new title, a new supervisor), chosen by the suite's seed, so that a run after it creates, updates,
deactivates, renames and moves members. Every world holds one hand-made app user, who must stay
exactly as they are whatever happens.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from personio_testkit.scim_app import ScimTestServer
from tests.apps.expected import Rules
from tests.apps.harness import AppHarness, RunTrace
from tests.controller.harness import eventually
from tests.plugins.leaks import PERSONIO_CLIENT_ID, PERSONIO_CLIENT_SECRET, SCIM_TOKEN, LeakCheck

HAND_MADE = "works.council@elsewhere.example"


@dataclass(frozen=True)
class Recipe:
    name: str
    employees: int = 12
    rules: Rules = field(default_factory=Rules)
    api_version: str = "v2"
    rate_limits: bool = False


SMALL = Recipe("small")
PAGED = Recipe("paged", employees=60)  # two pages of persons in v2 (50 a page)
PAGED_V1 = Recipe("paged-v1", employees=110, api_version="v1")  # two pages in v1 (100 a page)
DEPARTMENTS_ONLY = Recipe("departments-only", rules=Rules(teams=frozenset({"department"})))


class FaultWorld(AppHarness):
    sandbox: SandboxServer
    app: ScimTestServer

    def __init__(self, sandbox: SandboxServer, app: ScimTestServer, leaks: LeakCheck, recipe: Recipe) -> None:
        super().__init__(sandbox, app, leaks, recipe.rules, personio={"apiVersion": recipe.api_version})
        self.recipe = recipe
        self.hand_made_id = app.add_user(HAND_MADE, given_name="Works", family_name="Council", email=HAND_MADE)["id"]

    async def run(self, **overrides: Any) -> RunTrace:
        """A run, then the app done with any write the run left in flight (a run that gives up or is
        cut short may leave some, which the app still stores): what the app holds is read after that."""
        trace = await super().run(**overrides)
        await eventually(lambda: self.app.serving == 0, what="the app done with the run's requests")
        return trace

    def heal(self) -> None:
        """Every fault gone: the servers answer normally again."""
        self.app.faults.clear()
        self.sandbox.faults.clear()
        self.sandbox.credentials.whitelist = None


@contextlib.asynccontextmanager
async def build_world(recipe: Recipe, seed: int, leaks: LeakCheck) -> AsyncIterator[FaultWorld]:
    config = SandboxConfig(
        rate_limits=recipe.rate_limits, client_id=PERSONIO_CLIENT_ID, client_secret=PERSONIO_CLIENT_SECRET
    )
    sandbox = SandboxServer(generate_company(employees=recipe.employees, seed=seed), config)
    app = ScimTestServer(token=SCIM_TOKEN)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(sandbox)
        stack.callback(app.stop)
        app.start()
        world = FaultWorld(sandbox, app, leaks, recipe)
        stack.callback(world.close)
        yield world


def apply_changes(world: FaultWorld, seed: int) -> dict[str, str]:
    """An ordinary day in HR, the same for every world of this recipe and seed. Returns who changed how."""
    rng = random.Random(seed)
    company = world.company
    active = world.expected().active
    bosses = sorted({str(p.current.supervisor_id) for p in active.values() if str(p.current.supervisor_id) in active})
    others = [pid for pid in sorted(active) if pid not in bosses]
    leaver, mover, promoted, moved_report = rng.sample(others, 4)
    departments = sorted(company.departments)
    hires = []
    for number, (first, last) in enumerate((("Nele", "Hartmann"), ("Emil", "Osei"))):
        hires.append(
            company.hire(
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}{seed}{number}@sandbox-gmbh.example.com",
                department_id=rng.choice(departments),
                supervisor_id=int(rng.choice(bosses)),
                position="Data Engineer",
            )
        )
    company.terminate(int(leaver))
    current = company.person(mover).current.department_id
    company.move_department(int(mover), rng.choice([d for d in departments if d != current]))
    renamed = company.person(rng.choice(bosses)).current.department_id
    company.rename_department(renamed, f"Forschung {seed}")
    company.change_position(int(promoted), "Principal Engineer")
    supervisor = company.person(moved_report).current.supervisor_id
    company.change_supervisor(int(moved_report), int(rng.choice([b for b in bosses if b != str(supervisor)])))
    return {
        "hired": ",".join(map(str, hires)),
        "leaver": leaver,
        "mover": mover,
        "renamed department": str(renamed),
        "promoted": promoted,
        "new supervisor": moved_report,
    }
