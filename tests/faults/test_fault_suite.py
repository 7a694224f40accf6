"""Every fault a run meets, one at a time: the run copes or stops cleanly, and nothing is lost.

Promises pinned here (each fault is one test; ``tests/faults/engine.py`` says how it is tried):
- Personio: 5xx, a 429 storm, gateway timeouts, an access token revoked mid-run and a record repeated
  across pages are absorbed (the run succeeds); Personio failing for longer than the budget, a lost
  page and a whitelist that drops an attribute the spec needs stop the run before it writes anything;
  an attribute that only enriches users going missing changes nothing in the app;
- the app: 429, 5xx and timeouts on creates, PATCHes and reads that pass are absorbed; a write whose
  outcome is unclear (the app stored it, the answer was lost) is never applied twice; 409 and 412
  refusals fail only their object; an app that fails every create, every PATCH or every read, or
  whose token is revoked mid-run, fails the run; one object that always fails does not block the rest;
- whatever the fault: no duplicate user, group or member, no wrong deactivation, the hand-made user
  untouched, at most ATTEMPT_CAP tries per request, the requests to each side within the fault's
  bound, the next run finishes the work (the app then holds exactly what Personio says) and the run
  after it writes nothing; no secret in anything the runs let out (the app's errors echo the token).

The companies and the day's changes come from one seed: ``FAULT_SEED=7 .venv/bin/python -m pytest
tests/faults`` reproduces another draw. Operator-side faults (SMTP down, the operator killed mid-run)
are in ``test_operator_faults.py``; the summary line covers both.
"""

from __future__ import annotations

from typing import Any

import pytest

from personio_operator.personio.models import Attribute
from tests.controller.harness import eventually
from tests.faults.engine import (
    ATTEMPT_CAP,
    FAILING_BUDGET_SECONDS,
    LOOKUPS,
    Base,
    Bound,
    Outcome,
    Scenario,
    nothing_written,
    persistent,
    personio_persistent,
    personio_repeats,
    repeats,
    try_fault,
)
from tests.faults.world import DEPARTMENTS_ONLY, PAGED, PAGED_V1, FaultWorld

# Apps echo requests in their errors: every injected app error quotes the request's credentials.
ECHO = "refused {authorization} ({token_base64}, {token_url})"
EMPLOYMENTS = {"path_prefix": "/v2/persons/", "path_suffix": "/employments"}
PERSONS_LIST = {"path_prefix": "/v2/persons", "path_suffix": "/v2/persons"}
PERSONIO_CONCURRENCY = 16  # requests the Personio client may have in flight when its token is revoked
HIRE = "nele.hartmann"  # the day's first hire (tests/faults/world.py)


def app_fault(method: str, path: str, **fault: Any):
    return lambda world: [world.app.faults.add(method=method, path=path, detail=ECHO, **fault)]


def personio_fault(**fault: Any):
    return lambda world: [world.sandbox.faults.add(**fault)]


def whitelist_without(attribute: Attribute):
    def inject(world: FaultWorld) -> list[Any]:
        world.sandbox.credentials.whitelist = {a.value for a in Attribute} - {attribute.value}
        return []

    return inject


def hold_an_employments_call(world: FaultWorld) -> list[Any]:
    return [world.sandbox.faults.add(**EMPLOYMENTS, delay_seconds=0.5, every=6, times=1)]


async def revoke_tokens_while_held(world: FaultWorld, faults: list[Any]) -> None:
    """Once the sixth employments call is being held, every access token the sandbox issued is revoked."""
    await eventually(lambda: faults[0].fired, what="an employments call being held")
    credentials = world.sandbox.credentials
    for token in list(credentials._tokens):  # the sandbox's store of issued tokens
        credentials.revoke(token)


def reads_only_capped(base: Base, fired: int) -> Bound:
    reads = base.app - base.app_writes
    return Bound(personio=base.personio, app=ATTEMPT_CAP * reads, app_writes=0)


def stops_at_first_refusal(base: Base, fired: int) -> Bound:
    return Bound(personio=base.personio, app=base.app, app_writes=base.app_writes)


def one_object_failing(base: Base, fired: int) -> Bound:
    return Bound(
        personio=base.personio,
        app=base.app + (ATTEMPT_CAP - 1) + LOOKUPS * ATTEMPT_CAP,
        app_writes=base.app_writes + ATTEMPT_CAP - 1,
    )


SCENARIOS = [
    # --- Personio ----------------------------------------------------------------------------------------
    Scenario("personio 503 on the persons list", personio_fault(**PERSONS_LIST, status=503, times=1),
             Outcome.SUCCEEDS, personio_repeats()),
    Scenario("personio 502 on every third employments call, three times",
             personio_fault(**EMPLOYMENTS, status=502, every=3, times=3), Outcome.SUCCEEDS, personio_repeats()),
    Scenario("personio 503 for longer than the run budget", personio_fault(**PERSONS_LIST, status=503, times=None),
             Outcome.FAILS, personio_persistent(), budget_seconds=FAILING_BUDGET_SECONDS),
    Scenario("personio 429 storm", lambda world: [
        world.sandbox.faults.add(**EMPLOYMENTS, status=429, times=8),
        world.sandbox.faults.add(**PERSONS_LIST, status=429, times=1),
    ], Outcome.SUCCEEDS, personio_repeats()),
    Scenario("personio gateway timeouts on employments", personio_fault(
        **EMPLOYMENTS, status=504, delay_seconds=0.3, every=4, times=3), Outcome.SUCCEEDS, personio_repeats()),
    Scenario("personio access token revoked mid-run", hold_an_employments_call, Outcome.SUCCEEDS,
             personio_repeats(extra=PERSONIO_CONCURRENCY + 1), during=revoke_tokens_while_held),
    Scenario("personio page of persons cut short (v2)",
             lambda world: [world.sandbox.faults.drop_page("/v2/persons", page_index=1, keep=5)],
             Outcome.FAILS, nothing_written(), recipe=PAGED),
    Scenario("personio page of employees lost (v1)",
             lambda world: [world.sandbox.faults.drop_page("/v1/company/employees", page_index=1, keep=0)],
             Outcome.FAILS, nothing_written(), recipe=PAGED_V1, phase="first"),
    Scenario("personio record repeated on the next page",
             lambda world: [world.sandbox.faults.duplicate_record("/v2/persons", page_index=1)],
             Outcome.SUCCEEDS, personio_repeats(), recipe=PAGED),
    Scenario("whitelist drops an attribute the spec needs (department)", whitelist_without(Attribute.DEPARTMENT),
             Outcome.FAILS, nothing_written()),
    Scenario("whitelist drops an attribute that only enriches (supervisor)", whitelist_without(Attribute.SUPERVISOR),
             Outcome.SUCCEEDS, personio_repeats(), recipe=DEPARTMENTS_ONLY),
    # --- the app: refusals of one object ------------------------------------------------------------------
    Scenario("app 409 on a user create", app_fault("POST", "/Users", status=409, scim_type="uniqueness"),
             Outcome.EITHER, repeats(1 + LOOKUPS)),
    Scenario("app 412 on a user PATCH", app_fault("PATCH", "/Users", status=412), Outcome.EITHER,
             repeats(1 + LOOKUPS)),
    Scenario("app one user whose create always fails", app_fault(
        "POST", "/Users", status=500, times=None, body_contains=HIRE), Outcome.EITHER, one_object_failing,
             budget_seconds=FAILING_BUDGET_SECONDS, per_object_cap=("POST", "/Users")),
    # --- the app: faults that pass -------------------------------------------------------------------------
    Scenario("app 429 on creates", app_fault("POST", "/Users", status=429, retry_after=0.2, times=3),
             Outcome.SUCCEEDS, repeats()),
    Scenario("app 429 on PATCHes", app_fault("PATCH", "/Groups", status=429, retry_after=0.2, times=3),
             Outcome.SUCCEEDS, repeats()),
    Scenario("app 429 on reads", app_fault("GET", "/Users", status=429, retry_after=0.2, times=3),
             Outcome.SUCCEEDS, repeats(writes_per_fault=0)),
    Scenario("app 500 on group creates, twice", app_fault("POST", "/Groups", status=500, times=2),
             Outcome.SUCCEEDS, repeats(2 + LOOKUPS, 2), phase="first"),
    Scenario("app 502 on user PATCHes, twice", app_fault("PATCH", "/Users", status=502, times=2),
             Outcome.SUCCEEDS, repeats()),
    Scenario("app 503 on reads, twice", app_fault("GET", "/Groups", status=503, times=2), Outcome.SUCCEEDS,
             repeats(writes_per_fault=0)),
    Scenario("app timeout on user creates", app_fault("POST", "/Users", drop_connection=True, times=2),
             Outcome.SUCCEEDS, repeats(1 + LOOKUPS)),
    Scenario("app timeout on group PATCHes", app_fault("PATCH", "/Groups", drop_connection=True, times=2),
             Outcome.SUCCEEDS, repeats(1 + LOOKUPS)),
    Scenario("app timeout on reads", app_fault("GET", "/Users", drop_connection=True, times=2), Outcome.SUCCEEDS,
             repeats(writes_per_fault=0)),
    # --- the app: writes whose outcome is unclear ------------------------------------------------------------
    Scenario("app stored a user create, the answer was lost", app_fault(
        "POST", "/Users", drop_connection=True, after_processing=True, times=2), Outcome.SUCCEEDS,
             repeats(2 + LOOKUPS, 2)),
    Scenario("app stored a group create, then answered 502", app_fault(
        "POST", "/Groups", status=502, after_processing=True, times=2), Outcome.SUCCEEDS,
             repeats(2 + LOOKUPS, 2), phase="first"),
    Scenario("app stored a member change, the answer was lost", app_fault(
        "PATCH", "/Groups", drop_connection=True, after_processing=True, times=2), Outcome.SUCCEEDS,
             repeats(1 + LOOKUPS)),
    # --- the app: faults that outlast the run -------------------------------------------------------------------
    Scenario("app 500 on every user create", app_fault("POST", "/Users", status=500, times=None), Outcome.FAILS,
             persistent("POST /Users", writes=True), phase="first", budget_seconds=FAILING_BUDGET_SECONDS,
             per_object_cap=("POST", "/Users")),
    Scenario("app 503 on every PATCH", lambda world: [
        world.app.faults.add(method="PATCH", path="/Users", status=503, times=None, detail=ECHO),
        world.app.faults.add(method="PATCH", path="/Groups", status=503, times=None, detail=ECHO),
    ], Outcome.FAILS, persistent("PATCH /Users", "PATCH /Groups", writes=True),
             budget_seconds=FAILING_BUDGET_SECONDS, per_object_cap=("PATCH", "/")),
    Scenario("app 500 on every read", app_fault("GET", "/Users", status=500, times=None), Outcome.FAILS,
             reads_only_capped, budget_seconds=FAILING_BUDGET_SECONDS),
    Scenario("app token revoked mid-run", app_fault("PATCH", "/Groups", status=401, times=None), Outcome.FAILS,
             stops_at_first_refusal),
]  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
async def test_fault(scenario: Scenario, leak_check) -> None:
    record = await try_fault(scenario, leak_check)

    assert record.survived, record.line()
