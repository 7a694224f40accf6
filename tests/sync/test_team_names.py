"""The rule that gives colliding teams distinct names (sync.team_names), on the desired state that
``build_desired`` makes from Personio data and the groups the app holds."""

from __future__ import annotations

from personio_operator.scim.models import ScimGroup, TargetState
from personio_operator.sync.desired import DesiredBuild, build_desired
from personio_operator.sync.team_names import name_teams
from tests.sync.factories import make_spec, person

SUPERVISORS = make_spec(teams={"supervisor": True}, defaultLanguage="en")


def twins(*extra) -> list:
    """Two supervisors named Greta Krüger (ids 5 and 9), one report each."""
    return [
        person("5", "Greta", "Krüger", email="greta.k@acme.example"),
        person("9", "Greta", "Krüger", email="greta.kr@acme.example"),
        person("20", "Rep", "One", supervisor="5"),
        person("21", "Rep", "Two", supervisor="9"),
        *extra,
    ]


def ours(external_id: str, name: str, group_id: str | None = None) -> ScimGroup:
    return ScimGroup(id=group_id or external_id.rsplit(":", 1)[-1], display_name=name, external_id=external_id)


def hand_made(name: str) -> ScimGroup:
    return ScimGroup(id=f"hand-{name}", display_name=name)


def named(build: DesiredBuild, *app_groups: ScimGroup) -> dict[str, str]:
    groups, _ = name_teams(build.state.groups, build.team_names, TargetState(groups=list(app_groups)))
    return {group.external_id: group.display_name for group in groups}


PLAIN = "Greta Krüger's Team"
QUALIFIED_9 = "Greta Krüger's Team (greta.kr@acme.example)"


def test_the_lower_personio_id_keeps_the_plain_name_the_other_gets_the_supervisors_email() -> None:
    build = build_desired(twins(), SUPERVISORS)
    assert named(build) == {"personio:supervisor:5": PLAIN, "personio:supervisor:9": QUALIFIED_9}
    assert {g.display_name for g in build.state.groups} == {PLAIN, QUALIFIED_9}  # distinct already


def test_the_names_do_not_depend_on_the_order_personio_sends() -> None:
    forward = build_desired(twins(), SUPERVISORS)
    backward = build_desired(list(reversed(twins())), SUPERVISORS)
    assert named(forward) == named(backward)


def test_a_newcomer_with_a_lower_id_does_not_take_a_name_the_app_holds() -> None:
    newcomer = [person("3", "Greta", "Krüger", email="greta@acme.example"), person("22", "Rep", supervisor="3")]
    build = build_desired(twins(*newcomer), SUPERVISORS)
    app = [ours("personio:supervisor:5", PLAIN), ours("personio:supervisor:9", QUALIFIED_9)]
    assert named(build, *app) == {
        "personio:supervisor:3": "Greta Krüger's Team (greta@acme.example)",
        "personio:supervisor:5": PLAIN,
        "personio:supervisor:9": QUALIFIED_9,
    }


def test_renaming_the_plain_one_never_renames_the_other() -> None:
    staff = twins()
    staff[0] = person("5", "Gretchen", "Krüger", email="greta.k@acme.example")
    build = build_desired(staff, SUPERVISORS)
    app = [ours("personio:supervisor:5", PLAIN), ours("personio:supervisor:9", QUALIFIED_9)]
    assert named(build, *app) == {
        "personio:supervisor:5": "Gretchen Krüger's Team",
        "personio:supervisor:9": QUALIFIED_9,
    }


def test_renaming_the_qualified_one_gives_it_its_plain_name_and_leaves_the_other() -> None:
    staff = twins()
    staff[1] = person("9", "Gisela", "Krüger", email="greta.kr@acme.example")
    build = build_desired(staff, SUPERVISORS)
    app = [ours("personio:supervisor:5", PLAIN), ours("personio:supervisor:9", QUALIFIED_9)]
    assert named(build, *app) == {"personio:supervisor:5": PLAIN, "personio:supervisor:9": "Gisela Krüger's Team"}


def test_groups_that_already_share_a_name_in_a_lenient_app_are_told_apart_once() -> None:
    build = build_desired(twins(), SUPERVISORS)
    app = [ours("personio:supervisor:9", PLAIN, "a"), ours("personio:supervisor:5", PLAIN, "b")]
    assert named(build, *app) == {"personio:supervisor:5": PLAIN, "personio:supervisor:9": QUALIFIED_9}


def test_a_name_the_app_holds_for_another_of_our_teams_first_in_order_is_kept_by_its_holder() -> None:
    build = build_desired(twins(), SUPERVISORS)
    app = [ours("personio:supervisor:9", PLAIN)]  # 9 was synced first, 5 is new
    assert named(build, *app) == {
        "personio:supervisor:5": "Greta Krüger's Team (greta.k@acme.example)",
        "personio:supervisor:9": PLAIN,
    }


def test_a_hand_made_group_keeps_its_name_and_ours_steps_aside_with_a_warning() -> None:
    build = build_desired([person("1", department=("12", "IT"))], make_spec(teams={"department": True}))
    groups, warnings = name_teams(build.state.groups, build.team_names, TargetState(groups=[hand_made("abteilung it")]))
    assert [g.display_name for g in groups] == ["Abteilung IT (Abteilung)"]  # compared ignoring case
    (warning,) = warnings
    assert warning.kind.value == "HandMadeGroup" and "department 12" in warning


def test_a_name_we_already_hold_is_kept_even_if_someone_made_a_look_alike_by_hand() -> None:
    build = build_desired([person("1", department=("12", "IT"))], make_spec(teams={"department": True}))
    app = TargetState(groups=[ours("personio:department:12", "Abteilung IT"), hand_made("Abteilung IT")])
    groups, warnings = name_teams(build.state.groups, build.team_names, app)
    assert [g.display_name for g in groups] == ["Abteilung IT"] and not warnings


def test_teams_of_one_kind_with_one_name_are_told_apart_by_their_personio_id() -> None:
    staff = [person("1", department=("12", "IT")), person("2", "B", department=("30", "IT"))]
    build = build_desired(staff, make_spec(teams={"department": True}, defaultLanguage="en"))
    assert named(build) == {
        "personio:department:12": "Department IT",
        "personio:department:30": "Department IT (department)",
    }
    taken = hand_made("Department IT (department)")
    assert named(build, taken)["personio:department:30"] == "Department IT (department 30)"


def test_when_every_name_is_taken_by_hand_a_number_makes_it_distinct() -> None:
    build = build_desired([person("1", department=("12", "IT"))], make_spec(teams={"department": True}))
    taken = [hand_made(name) for name in build.team_names["personio:department:12"].names]
    assert named(build, *taken) == {"personio:department:12": "Abteilung IT (Abteilung 12) #2"}


def test_a_supervisor_without_an_email_is_qualified_by_kind_and_id() -> None:
    staff = twins()
    staff[1] = person("9", "Greta", "Krüger", email=None)  # held, but still a supervisor with a team
    build = build_desired(staff, SUPERVISORS)
    assert named(build)["personio:supervisor:9"] == "Greta Krüger's Team (supervisor 9)"


def test_a_long_name_is_cut_before_its_qualifier_never_the_qualifier() -> None:
    long_name = "X" * 300
    staff = [person("1", department=("12", long_name)), person("2", "B", department=("30", long_name))]
    build = build_desired(staff, make_spec(teams={"department": True}, defaultLanguage="en"))
    second = named(build)["personio:department:30"]
    assert len(second) == 256 and second.endswith("X (department)")
    assert len(set(named(build).values())) == 2
