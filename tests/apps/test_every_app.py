"""The end-to-end promises, against every SCIM server the suite knows (parametrised ``app``).

Promises pinned here, for each app (scim2-server: lenient, enterprise extension; django-scim2-server:
strict, core schemas only, unique group names):
- a first run gives every person in scope an active account and every team its members;
- a second run with nothing changed in Personio writes nothing (whatever the app dropped or changed);
- a hire, a leaver, a department move, a department rename, a new job title and a changed name flow
  through in one run, on the same accounts and groups, and the run after it writes nothing;
- a rehired person gets their old account back, active;
- an app user who already had the person's userName is adopted, not duplicated;
- users, groups and group members made by hand in the app are left exactly as they are;
- two supervisors with the same full name, and a department and a team with the same name, get
  distinct team names; renaming one never renames the other;
- a run sends only the attributes the app declares (its ``/Schemas`` and ``/ResourceTypes``).

Expectations depend only on what the app declares (title, manager, department... are checked only
where its schema has them), never on which server it is. What the app holds is read over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

from tests.apps.expected import Rules
from tests.apps.harness import AppHarness, RunTrace
from tests.apps.reading import COMMON_ATTRIBUTES, PATCH_SCHEMA, Dialect

HIRE = {"first_name": "Nele", "last_name": "Hartmann", "email": "nele.hartmann@sandbox-gmbh.example.com"}


def describe_writes(trace: RunTrace) -> str:
    return "\n".join(f"  {r.method} {r.path} -> {r.status}: {r.body[:300]!r}" for r in trace.app_writes[:20])


def assert_app_is_right(harness: AppHarness) -> None:
    problems = harness.problems()
    assert not problems, f"the app ({harness.dialect.describe()}) differs from Personio:\n" + "\n".join(
        f"  - {problem}" for problem in problems[:30]
    )


async def assert_rerun_writes_nothing(harness: AppHarness) -> None:
    trace = await harness.sync()
    assert not trace.app_writes, f"a run with nothing changed wrote {len(trace.app_writes)}:\n{describe_writes(trace)}"


def in_scope(harness: AppHarness) -> list[str]:
    return sorted(harness.expected().active)


def supervisors(harness: AppHarness) -> list[str]:
    """People in scope with reports in scope, in id order."""
    active = harness.expected().active
    return sorted({str(p.current.supervisor_id) for p in active.values() if str(p.current.supervisor_id) in active})


def without_reports(harness: AppHarness) -> list[str]:
    bosses = set(supervisors(harness))
    return [pid for pid in in_scope(harness) if pid not in bosses]


# --- runs ------------------------------------------------------------------------------------------------


async def test_a_first_run_gives_everyone_in_scope_an_account_and_their_teams(make_harness):
    harness = make_harness()
    trace = await harness.sync()

    assert_app_is_right(harness)
    assert trace.report.users.created == len(harness.expected().active)


async def test_a_second_run_with_nothing_changed_writes_nothing(make_harness):
    harness = make_harness()
    await harness.sync()

    await assert_rerun_writes_nothing(harness)
    assert_app_is_right(harness)


async def test_hire_leave_move_rename_title_and_name_flow_through_on_the_same_objects(make_harness):
    harness = make_harness()
    company = harness.company
    await harness.sync()
    before = harness.holdings()
    leaver, mover, promoted, renamed_person = without_reports(harness)[:4]
    boss = supervisors(harness)[0]
    moved_to = next(d for d in company.departments if d != company.person(mover).current.department_id)
    renamed_department = company.person(boss).current.department_id

    hired = company.hire(**HIRE, department_id=moved_to, supervisor_id=int(boss), position="Data Engineer")
    company.terminate(int(leaver))
    company.move_department(int(mover), moved_to)
    company.rename_department(renamed_department, "Forschung & Entwicklung")
    company.change_position(int(promoted), "Principal Engineer")
    company.change_name(int(renamed_person), last_name="Neumann-Okafor")
    await harness.sync()

    assert_app_is_right(harness)
    after = harness.holdings()
    users_before, users_after = before.managed_users(), after.managed_users()
    for pid in (leaver, mover, promoted, renamed_person):
        assert users_after[pid]["id"] == users_before[pid]["id"], f"person {pid} got a new account"
    assert users_after[leaver]["active"] is False
    assert str(hired) in users_after
    key = f"personio:department:{renamed_department}"
    assert after.managed_groups()[key]["id"] == before.managed_groups()[key]["id"], "the renamed team was replaced"
    assert len(after.users) == len(before.users) + 1  # the hire; the leaver is deactivated, not deleted
    await assert_rerun_writes_nothing(harness)


async def test_a_rehired_person_gets_their_old_account_back(make_harness):
    harness = make_harness()
    await harness.sync()
    person = without_reports(harness)[0]
    account = harness.holdings().managed_users()[person]["id"]

    harness.company.terminate(int(person))
    await harness.sync()
    assert harness.holdings().managed_users()[person]["active"] is False

    harness.company.rehire(int(person))
    await harness.sync()
    assert_app_is_right(harness)
    user = harness.holdings().managed_users()[person]
    assert (user["id"], user["active"]) == (account, True)
    await assert_rerun_writes_nothing(harness)


async def test_an_app_user_with_the_same_user_name_is_adopted_not_duplicated(make_harness):
    harness = make_harness()
    pid = in_scope(harness)[0]
    person = harness.company.person(pid)
    existing = harness.app.add_user(
        person.email.upper(), given_name=person.first_name, family_name="Old-Name", email=person.email
    )

    await harness.sync()

    assert_app_is_right(harness)
    assert harness.holdings().managed_users()[pid]["id"] == existing["id"]
    await assert_rerun_writes_nothing(harness)


async def test_users_groups_and_members_made_by_hand_are_left_alone(make_harness):
    harness = make_harness()
    hand_user = harness.app.add_user(
        "carla.contractor@elsewhere.example",
        given_name="Carla",
        family_name="Contractor",
        email="carla.contractor@elsewhere.example",
    )
    other_tool = harness.app.add_user("svc-backup@elsewhere.example", external_id="okta:00u1a2b3")
    hand_group = harness.app.add_group("Betriebsrat", member_ids=[hand_user["id"]])
    await harness.sync()
    boss = supervisors(harness)[0]
    department = harness.company.person(boss).current.department_id
    team = f"personio:department:{department}"
    harness.reader.add_member(harness.holdings().managed_groups()[team]["id"], hand_user["id"])
    untouched = _hand_made(harness, hand_user["id"], other_tool["id"], hand_group["id"])

    harness.company.hire(**HIRE, department_id=department)  # the team with the hand-added member changes
    harness.company.terminate(int(without_reports(harness)[0]))
    await harness.sync()

    assert_app_is_right(harness)
    assert _hand_made(harness, hand_user["id"], other_tool["id"], hand_group["id"]) == untouched
    assert hand_user["id"] in harness.holdings().members(team), "the hand-added member was removed"
    await assert_rerun_writes_nothing(harness)


def _hand_made(harness: AppHarness, *ids: str) -> dict[str, Any]:
    """The hand-made resources as the app holds them (timestamps and versions left out)."""
    held = harness.holdings()
    resources = {**{u["id"]: u for u in held.users}, **{g["id"]: g for g in held.groups}}
    return {key: {k: v for k, v in resources[key].items() if k != "meta"} for key in ids}


# --- team names that collide -------------------------------------------------------------------------------


def make_twins(harness: AppHarness) -> tuple[str, str]:
    """The two supervisors; the second one is renamed to the first one's full name."""
    first, second = supervisors(harness)[:2]
    model = harness.company.person(first)
    harness.company.change_name(int(second), first_name=model.first_name, last_name=model.last_name)
    return first, second


def display_name(harness: AppHarness, key: str) -> str:
    return str(harness.holdings().managed_groups()[key]["displayName"])


async def test_twin_supervisors_get_two_distinct_teams(make_harness):
    harness = make_harness(rules=Rules(teams=frozenset({"supervisor"})))
    first, second = make_twins(harness)

    await harness.sync()

    assert_app_is_right(harness)
    names = {display_name(harness, f"personio:supervisor:{pid}") for pid in (first, second)}
    assert len(names) == 2, f"both supervisor teams are named {names}"
    await assert_rerun_writes_nothing(harness)


async def test_a_supervisor_renamed_to_a_twin_name_never_renames_the_other_team(make_harness):
    harness = make_harness(rules=Rules(teams=frozenset({"supervisor"})))
    first, second = supervisors(harness)[:2]
    await harness.sync()
    kept = harness.holdings().managed_groups()[f"personio:supervisor:{first}"]

    make_twins(harness)
    await harness.sync()

    assert_app_is_right(harness)
    group = harness.holdings().managed_groups()[f"personio:supervisor:{first}"]
    assert (group["id"], group["displayName"]) == (kept["id"], kept["displayName"])
    assert display_name(harness, f"personio:supervisor:{second}") != kept["displayName"]
    await assert_rerun_writes_nothing(harness)


async def test_a_department_and_a_team_with_the_same_name_get_distinct_groups(make_harness):
    rules = Rules(teams=frozenset({"department", "team"}))
    harness = make_harness(rules=rules, teams={"nameTemplates": {"department": "{name}", "team": "{name}"}})
    active = harness.expected().active.values()
    team_id = next(p.current.team_id for p in active if p.current.team_id is not None)
    department_id = next(p.current.department_id for p in active if p.current.team_id != team_id)
    harness.company.rename_department(department_id, harness.company.teams[team_id].name)

    await harness.sync()

    assert_app_is_right(harness)
    department = display_name(harness, f"personio:department:{department_id}")
    assert department != display_name(harness, f"personio:team:{team_id}")
    await assert_rerun_writes_nothing(harness)


# --- what goes to the app ----------------------------------------------------------------------------------


async def test_a_run_sends_only_the_attributes_the_app_declares(make_harness):
    harness = make_harness()
    traces = [await harness.run()]
    boss = supervisors(harness)[0]
    department = harness.company.person(boss).current.department_id
    harness.company.hire(**HIRE, supervisor_id=int(boss), department_id=department)
    harness.company.change_position(int(without_reports(harness)[0]), "Principal Engineer")
    traces.append(await harness.run())

    dialect = harness.dialect
    undeclared = sorted(
        {
            f"{request.method} {request.path.split('/')[1]}: {attribute}"
            for trace in traces
            for request in trace.app_writes
            for attribute in _attributes_sent(request.method, request.path, request.body, dialect)
        }
    )
    assert not undeclared, f"sent what the app does not declare ({dialect.describe()}):\n" + "\n".join(undeclared)


def _attributes_sent(method: str, path: str, body: bytes | str, dialect: Dialect) -> list[str]:
    """Attributes in a write that the app's schema for that resource does not list."""
    if not body:
        return []
    payload = json.loads(body)
    users = path.startswith("/Users")
    declared = dialect.user_attributes if users else dialect.group_attributes
    extensions = dialect.user_extensions if users else {}
    if method == "PATCH" and PATCH_SCHEMA in payload.get("schemas", []):
        sent: list[str] = []
        for operation in payload.get("Operations", []):
            op_path = str(operation.get("path") or "")
            if op_path:
                sent.append(op_path)
            elif isinstance(operation.get("value"), dict):
                sent += list(operation["value"])
        return [attribute for attribute in sent if not _declared(attribute, declared, extensions)]
    sent = []
    for key, value in payload.items():
        if key in extensions and isinstance(value, dict):
            sent += [f"{key}:{inner}" for inner in value]
        else:
            sent.append(key)
    return [attribute for attribute in sent if not _declared(attribute, declared, extensions)]


def _declared(attribute: str, declared: frozenset[str], extensions: dict[str, frozenset[str]]) -> bool:
    for urn, names in extensions.items():
        if attribute.startswith(urn):
            rest = attribute[len(urn) :].lstrip(":.")
            return not rest or rest.split(".")[0].split("[")[0] in names
    if attribute.startswith("urn:"):
        return False  # an extension the app does not list for this resource
    root = attribute.split(".")[0].split("[")[0]
    return root in declared or root in COMMON_ATTRIBUTES
