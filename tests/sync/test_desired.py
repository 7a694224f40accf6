from hypothesis import given, settings
from hypothesis import strategies as st

from personio_operator.personio.models import Attribute, EmploymentStatus, EmploymentType, NamedRef, PersonRef
from personio_operator.scim.models import UserField
from personio_operator.sync.desired import build_desired
from tests.sync.factories import make_spec, person

ALL_TEAMS = {"supervisor": True, "team": True, "department": True, "office": True, "employmentType": True}


def users_by_id(build):
    return {u.external_id: u for u in build.state.users}


def groups_by_id(build):
    return {g.external_id: g for g in build.state.groups}


def test_user_fields_follow_the_seed() -> None:
    spec = make_spec(defaultLanguage="en")
    build = build_desired(
        [person("7", "Peter", "Wright", position="CTO", department=("900", "IT"), email=" Peter.Wright@Acme.Example ")],
        spec,
    )
    (user,) = build.state.users
    assert user.external_id == "personio:7"
    assert user.user_name == user.email == "peter.wright@acme.example"
    assert (user.given_name, user.family_name) == ("Peter", "Wright")
    assert user.title == "CTO" and UserField.TITLE in user.managed
    assert user.user_type == "Internal"
    assert user.employee_number == "7"
    assert user.department == "IT"
    assert user.preferred_language == "en"
    assert user.active


def test_job_title_only_with_users_job_title() -> None:
    build = build_desired([person("1", position="CTO")], make_spec(users={"jobTitle": False}))
    (user,) = build.state.users
    assert user.title is None and UserField.TITLE not in user.managed


def test_external_staff_only_with_include_external() -> None:
    staff = [person("1"), person("2", "Ext", kind=EmploymentType.EXTERNAL)]
    without = build_desired(staff, make_spec())
    assert set(users_by_id(without)) == {"personio:1"}
    assert "includeExternal" in without.inactive_reasons["personio:2"]
    with_external = build_desired(staff, make_spec(rules={"includeExternal": True}))
    assert users_by_id(with_external)["personio:2"].user_type == "External"


def test_inactive_and_leave_policy() -> None:
    staff = [person("1", status=EmploymentStatus.INACTIVE), person("2", "Lea", status=EmploymentStatus.LEAVE)]
    default = build_desired(staff, make_spec())
    assert set(users_by_id(default)) == {"personio:2"}
    assert default.inactive_reasons == {"personio:1": "inactive in Personio"}
    strict = build_desired(staff, make_spec(rules={"onLeave": "Deactivate"}))
    assert strict.state.users == []
    assert set(strict.inactive_reasons) == {"personio:1", "personio:2"}


def test_person_without_email_is_held_with_a_warning() -> None:
    build = build_desired([person("1", email=None), person("2", "Bo", email="not-an-address")], make_spec())
    assert build.state.users == []
    assert build.held == {"personio:1", "personio:2"}
    assert any("Person 1" in w and "no e-mail" in w for w in build.warnings)
    assert any("Person 2" in w and "not a valid address" in w for w in build.warnings)


def test_people_sharing_an_email_ignoring_case_are_both_held() -> None:
    staff = [person("1", email="Sam@acme.example"), person("2", "Sam", email="sam@ACME.example"), person("3", "Ok")]
    build = build_desired(staff, make_spec())
    assert set(users_by_id(build)) == {"personio:3"}
    assert build.held == {"personio:1", "personio:2"}
    (warning,) = [w for w in build.warnings if "share the e-mail" in w]
    assert "Person 1" in warning and "Person 2" in warning


def test_shared_email_with_an_inactive_person_keeps_the_active_one() -> None:
    staff = [
        person("1", email="sam@acme.example", status=EmploymentStatus.INACTIVE),
        person("2", email="sam@acme.example"),
    ]
    build = build_desired(staff, make_spec())
    assert set(users_by_id(build)) == {"personio:2"}
    assert not build.held


def test_long_and_non_latin_names() -> None:
    staff = [
        person("1", "A" * 300, "Ünal", email="a.unal@acme.example"),
        person("2", "山田", "太郎", email="yamada@acme.example"),
    ]
    build = build_desired(staff, make_spec())
    users = users_by_id(build)
    assert len(users["personio:1"].given_name) == 256
    assert any("cut to 256" in w for w in build.warnings)
    assert (users["personio:2"].given_name, users["personio:2"].family_name) == ("山田", "太郎")


def test_control_characters_and_spacing_are_cleaned() -> None:
    build = build_desired([person("1", " Anna\u0000  Maria\n", "Li", email="anna@acme.example")], make_spec())
    assert build.state.users[0].given_name == "Anna Maria"


def test_duplicate_person_ids_use_the_first_entry() -> None:
    build = build_desired([person("1", "First"), person("1", "Second")], make_spec())
    assert [u.given_name for u in build.state.users] == ["First"]
    assert any("appears twice" in w for w in build.warnings)


def test_manager_links_and_out_of_scope_supervisor() -> None:
    staff = [
        person("1", "Boss"),
        person("2", "Rep", supervisor="1"),
        person("3", "Gone", status=EmploymentStatus.INACTIVE),
        person("4", "Orphan", supervisor="3"),
        person("5", "Lost", supervisor="99"),
    ]
    build = build_desired(staff, make_spec())
    users = users_by_id(build)
    assert users["personio:2"].manager_external_id == "personio:1"
    assert users["personio:4"].manager_external_id is None
    assert users["personio:5"].manager_external_id is None
    assert any("Person 3 (Gone" in w and "inactive in Personio" in w and "Person 4" in w for w in build.warnings)
    assert any("Person 99" in w and "not in Personio's answer" in w for w in build.warnings)


def test_supervisor_cycle_is_broken_at_one_link() -> None:
    staff = [person("1", supervisor="3"), person("2", "B", supervisor="1"), person("3", "C", supervisor="2")]
    build = build_desired(staff, make_spec())
    links = {u.external_id: u.manager_external_id for u in build.state.users}
    assert links == {"personio:1": None, "personio:2": "personio:1", "personio:3": "personio:2"}
    assert any("cycle" in w for w in build.warnings)


def test_self_supervision_is_not_a_link() -> None:
    build = build_desired([person("1", supervisor="1")], make_spec())
    assert build.state.users[0].manager_external_id is None
    assert any("own supervisor" in w for w in build.warnings)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=12))
def test_manager_links_never_form_a_cycle(supervisors) -> None:
    staff = [person(str(i + 1), f"P{i}", supervisor=str(sup)) for i, sup in enumerate(supervisors)]
    build = build_desired(staff, make_spec())
    links = {u.external_id: u.manager_external_id for u in build.state.users if u.manager_external_id}
    for start in links:
        seen, node = set(), start
        while node in links:
            assert node not in seen, f"cycle through {node}"
            seen.add(node)
            node = links[node]


def test_manager_links_not_managed_when_supervisor_not_returned() -> None:
    build = build_desired(
        [person("1"), person("2", supervisor="1")], make_spec(), available=set(Attribute) - {Attribute.SUPERVISOR}
    )
    assert UserField.MANAGER not in build.managed
    assert all(u.manager_external_id is None for u in build.state.users)


def test_teams_of_every_kind_in_german() -> None:
    staff = [
        person("1", "Peter", "Wright", department=("900", "IT"), team=("50", "Backend"), office=("7", "Berlin")),
        person("2", "Ina", supervisor="1", department=("900", "IT"), office=("7", "Berlin")),
        person("3", "Ex", kind=EmploymentType.EXTERNAL, supervisor="1", department=("901", "Vertrieb")),
    ]
    build = build_desired(staff, make_spec(teams=ALL_TEAMS, rules={"includeExternal": True}))
    groups = {g.external_id: (g.display_name, set(g.member_external_ids)) for g in build.state.groups}
    assert groups == {
        "personio:department:900": ("Abteilung IT", {"personio:1", "personio:2"}),
        "personio:department:901": ("Abteilung Vertrieb", {"personio:3"}),
        "personio:team:50": ("Team Backend", {"personio:1"}),
        "personio:office:7": ("Büro Berlin", {"personio:1", "personio:2"}),
        # The supervisor is a member of their own team.
        "personio:supervisor:1": ("Peter Wrights Team", {"personio:1", "personio:2", "personio:3"}),
        "personio:employmentType:internal": ("Interne Mitarbeitende", {"personio:1", "personio:2"}),
        "personio:employmentType:external": ("Externe Mitarbeitende", {"personio:3"}),
    }


def test_teams_in_english() -> None:
    staff = [person("1", "Peter", "Wright", department=("900", "IT")), person("2", "Ina", supervisor="1")]
    build = build_desired(staff, make_spec(teams=ALL_TEAMS, defaultLanguage="en"))
    names = {g.display_name for g in build.state.groups}
    assert {"Department IT", "Peter Wright's Team", "Internal employees"} <= names


def test_supervisor_team_of_a_supervisor_without_account_keeps_the_reports() -> None:
    staff = [person("1", "Peter", "Wright", status=EmploymentStatus.INACTIVE), person("2", "Ina", supervisor="1")]
    build = build_desired(staff, make_spec(teams={"supervisor": True}))
    (group,) = build.state.groups
    assert group.display_name == "Peter Wrights Team"
    assert group.member_external_ids == {"personio:2"}


def test_only_enabled_team_kinds_and_only_in_scope_members() -> None:
    staff = [
        person("1", department=("900", "IT"), office=("7", "Berlin")),
        person("2", "X", department=("901", "Old"), status=EmploymentStatus.INACTIVE),
    ]
    build = build_desired(staff, make_spec(teams={"department": True}))
    assert [g.external_id for g in build.state.groups] == ["personio:department:900"]


def test_unit_names_inconsistent_or_missing() -> None:
    staff = [
        person("1", department=("900", "IT")),
        person("2", "B", department=("900", "IT")),
        person("3", "C", department=("900", "I.T.")),
        person("4", "D", office=("7", None)),
    ]
    build = build_desired(staff, make_spec(teams={"department": True, "office": True}))
    names = {g.external_id: g.display_name for g in build.state.groups}
    assert names == {"personio:department:900": "Abteilung IT", "personio:office:7": "Büro 7"}
    assert any("named differently" in w for w in build.warnings)
    assert any("office with Personio id 7 has no name" in w for w in build.warnings)


def test_supervisor_team_name_comes_from_the_reference_when_the_supervisor_is_unknown() -> None:
    report = person("2", "Ina").model_copy(update={"supervisor": PersonRef(id="9", first_name="Max", last_name="Fox")})
    build = build_desired([report], make_spec(teams={"supervisor": True}, defaultLanguage="en"))
    assert build.state.groups[0].display_name == "Max Fox's Team"


def test_teams_with_equal_names_get_distinct_names_and_are_reported() -> None:
    staff = [person("1", department=("900", "IT")), person("2", "B", team=("5", "IT"))]
    templates = {"department": "{name}", "team": "{name}"}
    build = build_desired(staff, make_spec(teams={"department": True, "team": True, "nameTemplates": templates}))
    names = {group.external_id: group.display_name for group in build.state.groups}
    assert names == {"personio:team:5": "IT", "personio:department:900": "IT (Abteilung)"}  # team before department
    (clash,) = [w for w in build.warnings if w.kind.value == "TeamNameClash"]
    assert "team 5, department 900" in clash and "'IT (Abteilung)'" in clash


def test_output_is_deterministic() -> None:
    staff = [person(str(i), f"P{i}", supervisor="1", department=(str(i % 3), f"D{i % 3}")) for i in range(1, 30)]
    spec = make_spec(teams=ALL_TEAMS)
    forward, backward = build_desired(staff, spec), build_desired(list(reversed(staff)), spec)
    assert forward.state == backward.state
    assert [g.external_id for g in forward.state.groups] == sorted(g.external_id for g in forward.state.groups)


def test_department_unit_name_is_not_managed_when_department_not_returned() -> None:
    member = person("1").model_copy(update={"department": NamedRef(id="1", name="IT")})
    build = build_desired([member], make_spec(), available=set(Attribute) - {Attribute.DEPARTMENT})
    assert build.state.users[0].department is None and UserField.DEPARTMENT not in build.managed


def test_held_people_keep_their_teams_and_stay_manager_link_targets() -> None:
    staff = [
        person("1", "Boss", email=None, department=("900", "IT")),  # held: no e-mail
        person("2", "Rep", supervisor="1", department=("900", "IT")),
        person("3", "Lost", email=None, department=("901", "Ops")),
    ]
    build = build_desired(staff, make_spec(teams={"department": True, "supervisor": True}))
    assert build.held == {"personio:1", "personio:3"}
    assert [u.external_id for u in build.state.users] == ["personio:2"]
    assert build.state.users[0].manager_external_id == "personio:1"
    members = {g.external_id: set(g.member_external_ids) for g in build.state.groups}
    assert members == {
        "personio:department:900": {"personio:1", "personio:2"},
        "personio:department:901": {"personio:3"},
        "personio:supervisor:1": {"personio:1", "personio:2"},
    }


def kinds(build) -> list[str]:
    return [w.kind.value for w in build.warnings]


def test_every_warning_has_a_kind_that_says_what_happened() -> None:
    staff = [
        person("1", "Boss"),
        person("2", email=None),
        person("3", "Bo", email="a..b@acme.example"),
        person("4", "Sam", email="sam@acme.example"),
        person("5", "Sam", email="SAM@acme.example"),
        person("6", status=None),
        person("7", "Lo", "x" * 300, email="lo@acme.example"),
        person("8", "Self", supervisor="8"),
        person("9", "Rep", supervisor="99"),
        person("9", "Twice"),
        person("10", "", "NoFirst", email="nofirst@acme.example"),
    ]
    build = build_desired(staff, make_spec())
    assert set(kinds(build)) == (
        {
            "MissingEmail",
            "InvalidEmail",
            "DuplicateEmail",
            "HeldPerson",
            "NameTruncated",
            "SupervisorCycle",
            "UnsyncedSupervisor",
            "DuplicateRecord",
            "MissingName",
        }
    )


def test_team_warnings_have_kinds() -> None:
    staff = [
        person("1", department=("900", "IT"), team=("5", "IT")),
        person("2", "B", department=("900", "I.T.")),
        person("3", "C", department=("900", "IT"), office=("7", None)),
    ]
    templates = {"department": "{name}", "team": "{name}"}
    spec = make_spec(teams={"department": True, "team": True, "office": True, "nameTemplates": templates})
    assert {"TeamNameVaries", "TeamNameMissing", "TeamNameClash"} == set(kinds(build_desired(staff, spec)))


def test_an_address_the_app_would_refuse_holds_the_person_with_the_reason() -> None:
    staff = [person("1", "Ok"), person("2", "Bad", email="x@localhost"), person("3", "Nul", email="n\x00@acme.example")]
    build = build_desired(staff, make_spec())
    assert [u.external_id for u in build.state.users] == ["personio:1"]
    assert build.held == {"personio:2", "personio:3"}
    (localhost,) = [w for w in build.warnings if "Person 2" in w]
    assert localhost.kind.value == "InvalidEmail" and "should have a period" in localhost
    assert "Personio" in localhost  # says where to fix it
    (nul,) = [w for w in build.warnings if "Person 3" in w]
    assert "\x00" not in nul.text and "U+0000" in nul.text


def test_one_mailbox_in_two_spellings_is_one_address() -> None:
    (user,) = build_desired([person("1", email="Müller@XN--BCHER-KVA.de")], make_spec()).state.users
    assert user.user_name == user.email == "müller@bücher.de"
    pair = [person("1", email="müller@xn--bcher-kva.de"), person("2", "B", email="müller@bücher.de")]
    build = build_desired(pair, make_spec())
    assert build.held == {"personio:1", "personio:2"}
    assert [w.kind.value for w in build.warnings] == ["DuplicateEmail"]


def test_texts_for_the_app_are_clean_and_bounded_and_keep_joiners() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    persian = "\u0645\u0647\u0631\u200c\u0633\u0627"
    hostile = person(
        "1",
        f"\x1b[31m{persian}\u202e",
        f"Li {family}\x00",
        position="CTO\u2066\x07",
        department=("900", "IT\x1b[2J" + "d" * 1000),
        email="li@acme.example",
    )
    build = build_desired([hostile], make_spec(users={"jobTitle": True}, teams={"department": True}))
    (user,) = build.state.users
    assert (user.given_name, user.family_name, user.title) == (persian, f"Li {family}", "CTO")
    assert user.department == ("IT" + "d" * 1000)[:256]
    (group,) = build.state.groups
    assert group.display_name.startswith("Abteilung ITddd") and len(group.display_name) == 256


def test_warnings_name_people_briefly_and_without_escapes() -> None:
    hostile = person("1", "\x1b[2J\x1b]0;pwned\x07" + "A" * 10_000, "B", email=None)
    build = build_desired([hostile], make_spec())
    (warning,) = build.warnings
    assert "\x1b" not in warning.text and "pwned" not in warning.text
    assert len(warning.text) < 400


def test_a_supervisor_of_thousands_is_named_with_a_few_of_them() -> None:
    staff = [person(str(i), f"P{i}", supervisor="9999") for i in range(1, 2001)]
    (warning,) = build_desired(staff, make_spec()).warnings
    assert "2000 people" in warning and "and 1995 more" in warning and len(warning.text) < 1000


def test_an_id_that_cannot_be_a_key_holds_the_person_and_leaves_out_the_team() -> None:
    staff = [person("1\x1b[31m"), person("2", "B", department=("9 9", "IT")), person("3", "C")]
    build = build_desired(staff, make_spec(teams={"department": True}))
    assert [u.external_id for u in build.state.users] == ["personio:2", "personio:3"]
    assert build.held == {"personio:1\x1b[31m"}
    assert build.state.groups == []
    assert kinds(build) == ["InvalidId", "InvalidId"]
    assert all("\x1b" not in w.text for w in build.warnings)
