"""Retries with restraint: a failing app is never hammered, and one object that keeps failing never
stalls the run. Over real HTTP, with the production retry policy and the default 30-minute budget.

Promises:
- An app that answers 500 to every POST gets at most the attempt cap (5) of POSTs per object, with a
  look-up before each repeat and growing waits between them; the client's breaker stops the run long
  before its budget is spent, and the report names every object that was not written.
- Two supervisor teams with the same name on an app that refuses duplicate names (django-scim2-server
  answers HTML 500): the second is rejected after at most 5 POSTs and named; everything else is written.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable

from pydantic import SecretStr

from personio_operator.api.run import RunResult
from personio_operator.errors import ErrorKind
from personio_operator.scim.applier import apply_plan
from personio_operator.scim.client import BREAKER_THRESHOLD, SCIM_RETRY, ScimClient
from personio_operator.scim.models import DesiredState, TargetState
from personio_operator.scim.planner import plan_target
from personio_testkit.scim_app import RecordedRequest
from tests.plugins.django_scim_server import DjangoScimServer
from tests.scim.factories import desired_group, desired_user
from tests.sync.harness import Harness

ALL_TEAMS = {"department": True, "office": True, "team": True, "supervisor": True}
# The breaker stops the run at its 10th failed object, ~10 s after the first POST with these
# settings; the old client went on for the whole 1800 s budget.
WELL_UNDER_A_MINUTE = 60

ATTEMPT_CAP = 5  # the promise, not the product's constant: a cap of 6 must fail here


def posts_by_object(requests: Iterable[RecordedRequest]) -> dict[str, list[float]]:
    """When each object's POSTs were answered, by the externalId in the body."""
    times: dict[str, list[float]] = defaultdict(list)
    for request in requests:
        if request.method == "POST":
            times[json.loads(request.body)["externalId"]].append(request.at)
    return times


def assert_waits_grow(times: list[float]) -> None:
    """Each gap at least the policy's backoff for that attempt, and no gap shorter than the one before."""
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for failures, gap in enumerate(gaps, start=1):
        assert gap >= SCIM_RETRY.backoff(failures), (failures, gaps)
    assert gaps == sorted(gaps), gaps


async def test_an_app_failing_every_post_gets_at_most_five_per_object_and_the_run_stops_naming_them(
    personio_sandbox, scim_server
):
    harness = Harness(personio_sandbox(employees=30, seed=1, rate_limits=False), scim_server)
    await harness.sync()  # the people exist; the admin then turns teams on, and the app fails every POST
    scim_server.reset_requests()
    scim_server.faults.add(method="POST", path="/", status=500, detail="out of connections", times=None)

    async with asyncio.timeout(WELL_UNDER_A_MINUTE):
        report = await harness.run(teams=ALL_TEAMS, target={"scim": {"maxConcurrency": 12}})

    assert report.result is RunResult.FAILED and report.error_kind is ErrorKind.TRANSIENT
    assert f"failed {BREAKER_THRESHOLD} of the last" in (report.error or "")
    posts = posts_by_object(scim_server.requests)
    assert len(posts) >= BREAKER_THRESHOLD
    assert all(len(times) <= ATTEMPT_CAP for times in posts.values()), posts
    capped = [times for times in posts.values() if len(times) == ATTEMPT_CAP]
    assert len(capped) >= BREAKER_THRESHOLD - 1
    for times in capped:
        assert_waits_grow(times)
    # A look-up by externalId before every repeated POST: nothing was stored, nothing duplicated.
    assert scim_server.count("GET", "/Groups") >= sum(len(times) - 1 for times in posts.values())
    assert harness.groups() == {}
    named = {obj.key: obj for obj in report.objects if obj.kind == "Group"}
    assert set(posts) <= set(named)
    for key in posts:
        assert not named[key].ok and named[key].name
        assert "HTTP 500" in (named[key].error or "") or "failed 10 of the last" in (named[key].error or "")


async def test_twin_supervisor_teams_on_an_app_refusing_duplicate_names_reject_only_the_second(
    django_scim_server: DjangoScimServer,
):
    # Core attributes only: this app refuses the enterprise extension (adapting to that is not this test's topic).
    users = [desired_user(number, employee_number=None, department=None) for number in range(1, 7)]
    twin_name = "Greta Krüger's team"
    groups = [
        desired_group("supervisor", "1", twin_name, [2, 3]),
        desired_group("supervisor", "4", twin_name, [5, 6]),
        desired_group("department", "10", "Engineering", [1, 2, 3, 4, 5, 6]),
    ]
    nothing = TargetState(users=[], groups=[])
    plan = plan_target(DesiredState(users=users, groups=groups), nothing)

    async with (
        asyncio.timeout(WELL_UNDER_A_MINUTE),
        ScimClient(django_scim_server.url, SecretStr(django_scim_server.token), budget_seconds=1800) as client,
    ):
        await client.discover()
        results = await apply_plan(client, plan, state=nothing)

    [rejected] = [result for result in results if not result.ok]
    assert rejected.kind == "Group" and rejected.name == twin_name
    assert rejected.key in {"personio:supervisor:1", "personio:supervisor:4"}
    assert "HTTP 500" in (rejected.error or "") and "after 5 attempts" in (rejected.error or "")
    posts = posts_by_object(django_scim_server.requests)
    assert len(posts[rejected.key]) == ATTEMPT_CAP
    assert_waits_grow(posts[rejected.key])
    assert all(len(times) == 1 for key, times in posts.items() if key != rejected.key)

    stored_users = {user["externalId"]: user["id"] for user in django_scim_server.users()}
    assert sorted(stored_users) == sorted(user.external_id for user in users)
    stored_groups = {group["externalId"]: group for group in django_scim_server.groups()}
    written = {group.external_id for group in groups} - {rejected.key}
    assert set(stored_groups) == written
    for group in groups:
        if group.external_id in written:
            members = {member["value"] for member in stored_groups[group.external_id].get("members", [])}
            assert members == {stored_users[external_id] for external_id in group.member_external_ids}
