"""plan -> apply -> read back -> plan again, against a real scim2-server on 127.0.0.1."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from pydantic import SecretStr

from personio_operator.api.run import ObjectResult
from personio_operator.scim.applier import apply_plan
from personio_operator.scim.client import ScimClient
from personio_operator.scim.models import DesiredState
from personio_operator.scim.plan import TargetPlan
from personio_operator.scim.planner import plan_target
from personio_testkit.scim_app import ENTERPRISE_SCHEMA, ScimTestServer
from tests.plugins.scim_server import SCIM_TOKEN
from tests.scim.factories import desired_group, desired_user, eventually


async def sync_once(
    server: ScimTestServer, desired: DesiredState, *, request_timeout: float = 5.0
) -> tuple[TargetPlan, list[ObjectResult], ScimClient]:
    async with ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=request_timeout, budget_seconds=30) as client:
        await client.discover()
        state = await client.read_state()
        plan = plan_target(desired, state)
        results = await apply_plan(client, plan, state=state)
    return plan, results, client


def company(*, leaver: bool = False) -> DesiredState:
    users = [
        desired_user(1),
        desired_user(2, manager_external_id="personio:1"),
        desired_user(3, manager_external_id="personio:1"),
        desired_user(4),
        desired_user(5, manager_external_id="personio:2"),
        desired_user(6, active=False),
    ]
    groups = [
        desired_group("department", "1", "Department Engineering", [1, 2, 3]),
        desired_group("supervisor", "1", "Given1's Team", [2, 3]),
        desired_group("supervisor", "2", "Given2's Team", [5]),
    ]
    if leaver:
        users = [user for user in users if user.external_id != "personio:2"]
        users[-2] = desired_user(5, manager_external_id="personio:1", title="Lead")
        groups = [
            desired_group("department", "1", "Abteilung Engineering", [1, 3, 5]),
            desired_group("supervisor", "1", "Given1's Team", [3, 5]),
        ]
    return DesiredState(users=users, groups=groups)


def seed_hand_made(server: ScimTestServer) -> dict[str, dict]:
    admin = server.add_user("admin@acme.example", given_name="App", family_name="Admin", title="Owner")
    return {
        "admin": admin,
        "adoptee": server.add_user("PERSON3@acme.example", given_name="Old", family_name="Name"),
        "foreign": server.add_user("person4@acme.example", external_id="okta-4", title="Other tool"),
        "same_name_group": server.add_group("Department Engineering", member_ids=[admin["id"]]),
        "admins": server.add_group("Admins", member_ids=[admin["id"]]),
    }


def by_user_name(server: ScimTestServer) -> dict[str, dict]:
    names = Counter(user["userName"].lower() for user in server.users())
    assert all(count == 1 for count in names.values()), f"duplicate users: {names}"
    return {user["userName"].lower(): user for user in server.users()}


def without_meta(resource: dict) -> dict:
    return {key: value for key, value in resource.items() if key != "meta"}


async def test_full_sync_then_an_unchanged_second_pass_writes_nothing(scim_server):
    seeded = seed_hand_made(scim_server)

    plan, results, _ = await sync_once(scim_server, company())

    assert all(result.ok for result in results), [r for r in results if not r.ok]
    users = by_user_name(scim_server)
    assert set(users) == {f"person{i}@acme.example" for i in (1, 2, 3, 4, 5)} | {"admin@acme.example"}
    assert users["person3@acme.example"]["id"] == seeded["adoptee"]["id"]  # adopted, not duplicated
    assert users["person3@acme.example"]["externalId"] == "personio:3"
    assert without_meta(users["person4@acme.example"]) == without_meta(seeded["foreign"])  # conflict: untouched
    assert without_meta(users["admin@acme.example"]) == without_meta(seeded["admin"])
    ids = {name.split("@")[0]: user["id"] for name, user in users.items()}
    assert users["person2@acme.example"][ENTERPRISE_SCHEMA]["manager"] == {"value": ids["person1"]}
    assert users["person5@acme.example"][ENTERPRISE_SCHEMA]["manager"] == {"value": ids["person2"]}
    # new managers are created before their new reports, so the link travels in the create itself
    created = [json.loads(r.body) for r in scim_server.requests if r.method == "POST" and r.path == "/Users"]
    managers_in_creates = {body["userName"]: _manager_of(body) for body in created}
    assert managers_in_creates["person5@acme.example"] == ids["person2"]
    assert managers_in_creates["person2@acme.example"] == ids["person1"]
    groups = {group.get("externalId"): group for group in scim_server.groups()}
    assert {member["value"] for member in groups["personio:department:1"]["members"]} == {
        ids["person1"],
        ids["person2"],
        ids["person3"],
    }
    assert without_meta(groups[None]) in (without_meta(seeded["same_name_group"]), without_meta(seeded["admins"]))
    hand_groups = [without_meta(g) for g in scim_server.groups() if "externalId" not in g]
    assert sorted(hand_groups, key=str) == sorted(
        [without_meta(seeded["same_name_group"]), without_meta(seeded["admins"])], key=str
    )
    assert any("okta-4" in warning for warning in plan.warnings)

    writes_before = scim_server.writes()
    second_plan, second_results, second_client = await sync_once(scim_server, company())

    assert second_plan.is_empty, second_plan
    assert second_results == []
    assert scim_server.writes() == writes_before
    assert second_client.stats.writes == 0
    assert second_plan.users_unchanged == 4 and second_plan.groups_unchanged == 3


async def test_changes_leavers_renames_and_removed_teams(scim_server):
    seeded = seed_hand_made(scim_server)
    await sync_once(scim_server, company())
    users_before = by_user_name(scim_server)
    department_id = next(g["id"] for g in scim_server.groups() if g.get("externalId") == "personio:department:1")
    # someone adds the admin to our department team by hand: that membership must survive
    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN)) as client:
        await client.add_members(department_id, [seeded["admin"]["id"]])

    plan, results, _ = await sync_once(scim_server, company(leaver=True))

    assert all(result.ok for result in results), [r for r in results if not r.ok]
    users = by_user_name(scim_server)
    assert users["person2@acme.example"]["active"] is False  # deactivated, not deleted
    assert users["person2@acme.example"]["id"] == users_before["person2@acme.example"]["id"]
    assert users["person5@acme.example"]["title"] == "Lead"
    assert users["person5@acme.example"][ENTERPRISE_SCHEMA]["manager"]["value"] == users["person1@acme.example"]["id"]
    groups = {group.get("externalId"): group for group in scim_server.groups()}
    department = groups["personio:department:1"]
    assert (department["id"], department["displayName"]) == (department_id, "Abteilung Engineering")
    assert {m["value"] for m in department["members"]} == {
        users[f"person{i}@acme.example"]["id"] for i in (1, 3, 5)
    } | {seeded["admin"]["id"]}
    assert "personio:supervisor:2" not in groups
    assert [r.action for r in results if r.kind == "Group"] == ["rename", "members", "remove"]
    assert [d.external_id for d in plan.deactivations] == ["personio:2"]

    writes_before = scim_server.writes()
    third_plan, _, _ = await sync_once(scim_server, company(leaver=True))
    assert third_plan.is_empty
    assert scim_server.writes() == writes_before


async def test_full_sync_through_injected_faults_ends_in_the_same_state(scim_server_factory):
    clean, faulty = scim_server_factory(), scim_server_factory()
    for server in (clean, faulty):
        seed_hand_made(server)
    faulty.faults.add(method="POST", path="/Users", status=500, times=3)
    faulty.faults.add(method="POST", path="/Users", delay_seconds=1.2, after_processing=True, times=2)
    faulty.faults.add(method="POST", path="/Groups", status=503, after_processing=True, times=1)
    faulty.faults.add(method="PATCH", path="/Users", status=429, retry_after=0.2, times=3)
    faulty.faults.add(method="GET", path="/Groups", status=502, times=1)

    await sync_once(clean, company(), request_timeout=0.6)
    _, results, _ = await sync_once(faulty, company(), request_timeout=0.6)

    assert all(result.ok for result in results), [r for r in results if not r.ok]
    await _wait_for_stalled_answers(faulty)
    assert [(f.method, f.path, f.fired) for f in faulty.faults.items if f.fired != f.times] == []

    def shape(server: ScimTestServer) -> tuple:
        users = by_user_name(server)
        id_to_name = {user["id"]: name for name, user in users.items()}
        user_shape = sorted(
            (
                name,
                user.get("externalId"),
                user["active"],
                user.get(ENTERPRISE_SCHEMA, {}).get("manager", {}).get("value"),
            )
            for name, user in users.items()
        )
        user_shape = [(n, e, a, id_to_name.get(m)) for n, e, a, m in user_shape]
        group_shape = sorted(
            (g.get("externalId") or "", g["displayName"], sorted(id_to_name[m["value"]] for m in g.get("members", [])))
            for g in server.groups()
        )
        return user_shape, group_shape

    assert shape(faulty) == shape(clean)
    writes_before = faulty.writes()
    second_plan, _, _ = await sync_once(faulty, company())
    assert second_plan.is_empty
    assert faulty.writes() == writes_before


def _manager_of(user: dict) -> str | None:
    return user.get(ENTERPRISE_SCHEMA, {}).get("manager", {}).get("value")


async def _wait_for_stalled_answers(server: ScimTestServer) -> None:
    stalled = [f for f in server.faults.items if f.after_processing]
    await eventually(lambda: all(f.fired == f.times for f in stalled), message="all stalled faults fired")


@pytest.mark.parametrize("stale_listed_first", [True, False])
async def test_links_and_memberships_go_to_the_user_the_planner_synced_when_an_external_id_is_doubled(
    scim_server, stale_listed_first
):
    # Some apps accept the same externalId twice; the planner syncs the active user, so the applier must
    # resolve group members and manager links to that same user, whatever order the app lists them in.
    stale = scim_server.add_user("old.person1@acme.example", external_id="personio:1", active=False)
    synced = scim_server.add_user("person1@acme.example", external_id="personio:1")
    await sync_once(scim_server, DesiredState(users=[desired_user(1)]))  # person 1 now matches: no op next time
    desired = DesiredState(
        users=[desired_user(1), desired_user(2, manager_external_id="personio:1")],
        groups=[desired_group("department", "1", "Department Engineering", [1, 2])],
    )

    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN), budget_seconds=30) as client:
        await client.discover()
        listed = await client.read_state()
        order = sorted(listed.users, key=lambda user: user.active == stale_listed_first)
        state = listed.model_copy(update={"users": order})
        plan = plan_target(desired, state)
        results = await apply_plan(client, plan, state=state)

    assert all(result.ok for result in results), results
    assert [op.external_id for op in plan.users] == ["personio:2"]
    assert any("more than one user with externalId personio:1" in warning for warning in plan.warnings)
    users = {user["userName"]: user for user in scim_server.users()}
    manager = users["person2@acme.example"][ENTERPRISE_SCHEMA]["manager"]["value"]
    assert manager == synced["id"] != stale["id"]
    (group,) = [group for group in scim_server.groups() if group.get("externalId") == "personio:department:1"]
    assert {member["value"] for member in group["members"]} == {synced["id"], users["person2@acme.example"]["id"]}
