"""Teams from Personio attributes, end to end: naming, membership both ways, rename-safe, removal."""

import pytest

from tests.sync.harness import Harness

ALL_TEAMS = {"supervisor": True, "team": True, "department": True, "office": True, "employmentType": True}


def expected_members(harness: Harness, field: str, source_id: int) -> set[str]:
    in_scope = harness.in_scope_ids()
    return {str(p.id) for p in harness.company.persons() if getattr(p.current, field) == source_id} & in_scope


@pytest.mark.parametrize(
    ("language", "names"),
    [
        (
            "de",
            {
                "personio:department:9001": "Abteilung {department}",
                "personio:supervisor:1001": "Tomás Dörflers Team",
                "personio:supervisor:1011": "Leon Köhlers Team",
                "personio:office:60303": "Büro {office}",
                "personio:team:9101": "Team {team}",
                "personio:employmentType:internal": "Interne Mitarbeitende",
            },
        ),
        (
            "en",
            {
                "personio:department:9001": "Department {department}",
                "personio:supervisor:1001": "Tomás Dörfler's Team",
                "personio:office:60303": "Office {office}",
                "personio:team:9101": "Team {team}",
                "personio:employmentType:internal": "Internal employees",
            },
        ),
    ],
)
async def test_every_team_kind_and_its_name(make_harness, language: str, names: dict[str, str]) -> None:
    harness = make_harness(teams=ALL_TEAMS, defaultLanguage=language)
    await harness.sync()
    company = harness.company
    values = {
        "department": company.departments[9001].name,
        "office": company.workplaces[60303].name,
        "team": company.teams[9101].name,
    }
    groups = harness.groups()
    for external_id, template in names.items():
        assert groups[external_id]["displayName"] == template.format(**values)
    assert "personio:employmentType:external" not in groups  # externals are out of scope here

    assert harness.members("personio:department:9001") == expected_members(harness, "department_id", 9001)
    assert harness.members("personio:office:60303") == expected_members(harness, "office_id", 60303)
    assert harness.members("personio:team:9101") == expected_members(harness, "team_id", 9101)
    reports = expected_members(harness, "supervisor_id", 1001)
    assert harness.members("personio:supervisor:1001") == reports | {"1001"}  # the supervisor is a member
    assert harness.members("personio:employmentType:internal") == harness.in_scope_ids()


async def test_only_enabled_team_kinds_are_created(harness: Harness) -> None:
    await harness.sync(teams={"department": True})
    assert {external_id.split(":")[1] for external_id in harness.groups()} == {"department"}


async def test_name_templates_from_the_spec(make_harness) -> None:
    harness = make_harness(teams={"department": True, "nameTemplates": {"department": "Dept · {name}"}})
    await harness.sync()
    assert harness.groups()["personio:department:9001"]["displayName"] == "Dept · Geschäftsführung"


async def test_department_rename_renames_the_same_group(make_harness) -> None:
    harness = make_harness(teams={"department": True})
    await harness.sync()
    before = harness.groups()["personio:department:9001"]
    harness.company.rename_department(9001, "Vorstand")
    report = await harness.sync()
    after = harness.groups()["personio:department:9001"]
    assert after["id"] == before["id"]
    assert after["displayName"] == "Abteilung Vorstand"
    assert {m["value"] for m in after["members"]} == {m["value"] for m in before["members"]}
    assert report.teams.updated == 1 and report.teams.created == 0 and report.teams.removed == 0


async def test_department_move_moves_membership_both_ways(make_harness) -> None:
    harness = make_harness(teams={"department": True})
    await harness.sync()
    assert "1002" in harness.members("personio:department:9001")
    harness.company.move_department(1002, 9002)
    await harness.sync()
    assert "1002" not in harness.members("personio:department:9001")
    assert "1002" in harness.members("personio:department:9002")
    assert harness.users()["1002"]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"] == (
        harness.company.departments[9002].name
    )


async def test_team_is_removed_when_its_source_disappears(make_harness) -> None:
    harness = make_harness(teams={"team": True})
    await harness.sync()
    members = harness.members("personio:team:9101")
    assert members
    for person_id in members:
        harness.company.move_team(int(person_id), None)
    report = await harness.sync()
    assert "personio:team:9101" not in harness.groups()
    assert report.teams.removed == 1


async def test_hand_made_groups_and_hand_added_members_are_left_alone(make_harness) -> None:
    harness = make_harness(teams={"department": True})
    hand_made = harness.app.add_group(display_name="Abteilung Geschäftsführung")
    await harness.sync()
    stranger = harness.app.add_user("stranger@elsewhere.example")
    harness.add_member_in_app("personio:department:9001", stranger["id"])
    await harness.sync()
    assert stranger["id"] in harness.members("personio:department:9001")
    assert any(g["id"] == hand_made["id"] for g in harness.app.groups())


async def test_manager_links_and_a_supervisor_out_of_scope(harness: Harness) -> None:
    await harness.sync()
    for person in harness.company.persons():
        if str(person.id) in harness.in_scope_ids() and person.current.supervisor_id:
            assert harness.manager_of(str(person.id)) == str(person.current.supervisor_id)
    assert harness.manager_of("1001") is None

    harness.company.change_supervisor(1020, 1027)  # an external: out of scope
    report = await harness.sync()
    assert report.succeeded
    assert harness.manager_of("1020") is None
    assert any("Person 1027" in w and "Person 1020" in w for w in report.warnings)
