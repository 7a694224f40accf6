"""Distinct team names end to end, on a lenient app (scim2-server) and one that refuses a second group
with a name already taken (django-scim2-server answers it with an HTML 500): two supervisors with the
same full name, a department and a team with the same name, a group made by hand with our name, a
department recreated under a new id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.sync.harness import Harness

TWIN_ID, OTHER_TWIN_ID = 1007, 1008  # Felix Böhm supervises Emma Böhm, who is renamed "Felix" below
TWIN_TEAM, OTHER_TWIN_TEAM = f"personio:supervisor:{TWIN_ID}", f"personio:supervisor:{OTHER_TWIN_ID}"
BUDGET_SECONDS = 30.0  # a failing app fails the test in seconds, not after the default half hour


class ShortHarness(Harness):
    async def run(self, *, dry_run: bool = False, **overrides: Any) -> RunReport:
        secrets = RunSecrets(
            personio_client_id=DEFAULT_CLIENT_ID,
            personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
            scim_token=SecretStr(self.app.token),
        )
        return await run_integration(
            self.spec(**overrides),
            secrets,
            trigger=Trigger.MANUAL,
            started_by="tester@acme.example",
            dry_run=dry_run,
            destinations=self.destinations,
            budget_seconds=BUDGET_SECONDS,
        )


@pytest.fixture(params=["scim2-server", "django-scim2-server"])
def app(request: pytest.FixtureRequest, scim_server_factory: Callable[..., Any]) -> Any:
    if request.param == "scim2-server":
        return scim_server_factory()
    return request.getfixturevalue("django_scim_server")


@pytest.fixture
def make(personio_sandbox: Callable[..., Any], app: Any) -> Callable[..., Harness]:
    def build(**spec: Any) -> Harness:
        return ShortHarness(personio_sandbox(employees=30, seed=1, rate_limits=False), app, **spec)

    return build


def names(harness: Harness) -> dict[str, str]:
    return {group["externalId"]: group["displayName"] for group in harness.app.groups() if group.get("externalId")}


async def test_twin_supervisors_get_two_teams_with_distinct_stable_names(make: Callable[..., Harness]) -> None:
    harness = make(teams={"supervisor": True})
    harness.company.change_name(OTHER_TWIN_ID, first_name="Felix")  # now two "Felix Böhm"

    first = await harness.sync()
    assert first.rejected == 0 and first.teams.created == len(names(harness))
    assert names(harness)[TWIN_TEAM] == "Felix Böhms Team"  # the lower Personio id keeps the plain name
    assert names(harness)[OTHER_TWIN_TEAM] == "Felix Böhms Team (emma.boehm@sandbox-gmbh.example.com)"
    assert harness.members(OTHER_TWIN_TEAM) >= {str(OTHER_TWIN_ID)}
    clash = [w for w in first.warnings if "would all be named 'Felix Böhms Team'" in w]
    assert clash and f"supervisor {TWIN_ID}, supervisor {OTHER_TWIN_ID}" in clash[0]

    harness.app.reset_requests()
    await harness.sync()
    assert harness.app.writes() == 0  # the names are stable: the rerun is a no-op

    harness.company.change_name(OTHER_TWIN_ID, first_name="Emma")  # the suffixed one is renamed in Personio
    renamed = await harness.sync()
    assert names(harness)[OTHER_TWIN_TEAM] == "Emma Böhms Team"
    assert names(harness)[TWIN_TEAM] == "Felix Böhms Team"
    assert renamed.teams.updated == 1

    harness.company.change_name(OTHER_TWIN_ID, first_name="Felix")  # twins again: the plain name stays taken
    await harness.sync()
    assert names(harness)[TWIN_TEAM] == "Felix Böhms Team"
    assert names(harness)[OTHER_TWIN_TEAM] == "Felix Böhms Team (emma.boehm@sandbox-gmbh.example.com)"

    harness.company.change_name(TWIN_ID, first_name="Fritz")  # the plain one is renamed: the other keeps its name
    harness.app.reset_requests()
    await harness.sync()
    assert names(harness)[TWIN_TEAM] == "Fritz Böhms Team"
    assert names(harness)[OTHER_TWIN_TEAM] == "Felix Böhms Team (emma.boehm@sandbox-gmbh.example.com)"
    assert harness.app.count("PATCH", "/Groups") + harness.app.count("PUT", "/Groups") >= 1
    assert harness.app.count("POST", "/Groups") == 0 and harness.app.count("DELETE", "/Groups") == 0


async def test_a_department_and_a_team_of_the_same_name(make: Callable[..., Harness]) -> None:
    templates = {"department": "{name}", "team": "{name}"}
    harness = make(teams={"department": True, "team": True, "nameTemplates": templates}, defaultLanguage="en")
    department_id = next(iter(harness.company.departments))
    team_id = next(iter(harness.company.teams))
    shared = harness.company.departments[department_id].name
    harness.company.rename_team(team_id, shared)

    report = await harness.sync()
    assert report.rejected == 0
    assert names(harness)[f"personio:team:{team_id}"] == shared  # teams come before departments
    assert names(harness)[f"personio:department:{department_id}"] == f"{shared} (department)"
    harness.app.reset_requests()
    await harness.sync()
    assert harness.app.writes() == 0


async def test_our_team_steps_aside_for_a_group_made_by_hand(make: Callable[..., Harness]) -> None:
    harness = make(teams={"department": True}, defaultLanguage="en")
    department_id = next(iter(harness.company.departments))
    plain = f"Department {harness.company.departments[department_id].name}"
    hand_made = harness.app.add_group(plain)

    report = await harness.sync()
    assert report.rejected == 0
    assert names(harness)[f"personio:department:{department_id}"] == f"{plain} (department)"
    (kept,) = [g for g in harness.app.groups() if g["id"] == hand_made["id"]]
    assert kept["displayName"] == plain and not kept.get("externalId")  # never touched
    assert report.warning_summary.by_kind.get("HandMadeGroup") == 1
    assert any(f"The app has a group named {plain!r} that this integration did not make" in w for w in report.warnings)


async def test_a_department_recreated_under_a_new_id_takes_over_its_name_in_one_run(
    make: Callable[..., Harness],
) -> None:
    harness = make(teams={"department": True}, defaultLanguage="en")
    old_id = next(iter(harness.company.departments))
    old_name = harness.company.departments[old_id].name
    await harness.sync()
    assert names(harness)[f"personio:department:{old_id}"] == f"Department {old_name}"

    new_id = harness.company.add_department(old_name)  # HR rebuilt the department: same name, new id
    for person in harness.company.persons():
        if person.current.department_id == old_id:
            harness.company.move_department(person.id, new_id)
    harness.app.reset_requests()
    report = await harness.sync()

    assert report.rejected == 0
    assert harness.app.count("POST", "/Groups") == 1  # the old group was removed first: no refused create
    assert names(harness)[f"personio:department:{new_id}"] == f"Department {old_name}"
    assert f"personio:department:{old_id}" not in names(harness)
