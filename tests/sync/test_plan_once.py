"""The plan is made once, from the desired state alone: held people, deactivation reasons and the
attributes that are not managed (by the spec, by what Personio returned, by what the app holds) are
all in the desired state, and the planner honours them in one pass (no repair step after it)."""

from personio_operator.api.run import ObjectResult
from personio_operator.personio.models import Attribute, EmploymentStatus
from personio_operator.scim.models import ALL_USER_FIELDS, ScimGroup, ScimUser, TargetState, UserField
from personio_operator.scim.plan import TargetPlan
from personio_operator.scim.planner import plan_target
from personio_operator.sync.desired import build_desired
from tests.sync.factories import make_spec, person


def managed(pid: str, email: str, *, department: str | None = None, manager: str | None = None) -> ScimUser:
    return ScimUser(
        id=f"u{pid}",
        user_name=email,
        external_id=f"personio:{pid}",
        given_name="X",
        family_name="Y",
        email=email,
        user_type="Internal",
        employee_number=pid,
        department=department,
        manager_id=manager,
    )


def test_held_people_are_never_deactivated_and_reasons_are_words() -> None:
    staff = [
        person("1", email=None),  # held
        person("2", status=EmploymentStatus.INACTIVE),
    ]
    current = TargetState(users=[managed("1", "a@x.example"), managed("2", "b@x.example"), managed("3", "c@x.example")])
    build = build_desired(staff, make_spec())
    plan = plan_target(build.state, current)
    reasons = {op.external_id: op.reason for op in plan.deactivations}
    assert reasons == {"personio:2": "inactive in Personio", "personio:3": "no longer in Personio"}


def test_unreturned_department_and_supervisor_are_not_cleared() -> None:
    staff = [person("1", "Anna", "Li", email="a@x.example"), person("2", "Bo", "Li", email="b@x.example")]
    current = TargetState(
        users=[
            managed("1", "a@x.example", department="IT").model_copy(update={"given_name": "Anna", "family_name": "Li"}),
            managed("2", "b@x.example", manager="u1").model_copy(update={"given_name": "Bo", "family_name": "Li"}),
        ]
    )
    spec = make_spec(users={"jobTitle": False})
    available = set(Attribute) - {Attribute.DEPARTMENT, Attribute.SUPERVISOR}
    build = build_desired(staff, spec, available=available)
    plan = plan_target(build.state, current)
    assert plan.is_empty
    assert plan.users_unchanged == 2
    assert {UserField.DEPARTMENT, UserField.MANAGER}.isdisjoint(build.managed)


def test_attributes_the_app_does_not_hold_are_never_planned() -> None:
    """An app that drops title, userType, the extension...: what it reads back differs, nothing is planned."""
    staff = [person("1", "Anna", "Li", email="a@x.example", department=("9", "IT"), position="CTO")]
    staff.append(person("2", "Bo", "Li", email="b@x.example", supervisor="1"))
    as_dropped = [
        ScimUser(id=f"u{pid}", user_name=email, external_id=f"personio:{pid}", given_name=given, family_name="Li")
        for pid, email, given in (("1", "a@x.example", "Anna"), ("2", "b@x.example", "Bo"))
    ]
    app = ALL_USER_FIELDS - {UserField.TITLE, UserField.USER_TYPE, UserField.EMPLOYEE_NUMBER}
    app -= {UserField.DEPARTMENT, UserField.MANAGER, UserField.EMAILS}
    build = build_desired(staff, make_spec(), app=app)

    plan = plan_target(build.state, TargetState(users=as_dropped))

    assert plan.is_empty, plan
    assert plan.users_unchanged == 2
    everything = plan_target(build_desired(staff, make_spec()).state, TargetState(users=as_dropped))
    assert {change.field for op in everything.users for change in op.changes} >= {"title", "department"}


def test_teams_only_held_people_would_fill_are_not_created() -> None:
    staff = [person("1", email=None, department=("9", "IT")), person("2", department=("8", "Ops"))]
    spec = make_spec(teams={"department": True})
    build = build_desired(staff, spec)
    existing = ScimGroup(id="g9", display_name="Abteilung IT", external_id="personio:department:9", member_ids={"u1"})
    without_account = plan_target(build.state, TargetState())
    assert [g.external_id for g in without_account.groups] == ["personio:department:8"]
    assert not without_account.warnings  # the held person is not "a member without an account"
    current = TargetState(users=[managed("1", "a@x.example")], groups=[existing])
    with_account = plan_target(build.state, current)
    assert "personio:department:9" not in {g.external_id for g in with_account.groups}  # kept, unchanged
    assert with_account.groups_unchanged == 1
    assert not with_account.deactivations


def test_counts_from_plan_and_from_results() -> None:
    staff = [person("1", email="a@x.example"), person("2", "Bo", email="b@x.example", supervisor="1")]
    current = TargetState(users=[managed("1", "a@x.example").model_copy(update={"given_name": "Anna"})])
    spec = make_spec(users={"jobTitle": False})
    build = build_desired(staff, spec)
    plan = plan_target(build.state, current)
    users, _ = plan.counts()
    assert (users.created, users.updated) == (1, 1)
    failed = [obj.model_copy(update={"ok": False, "error": "boom"}) for obj in plan.objects()]
    users, _ = plan.counts(failed)
    assert (users.created, users.updated) == (0, 0)


def test_manager_link_only_change_counts_as_an_update() -> None:
    plan_objects = [ObjectResult(kind="ManagerLink", action="link", key="personio:2", name="b@x.example")]
    users, _ = TargetPlan(users_unchanged=2).counts(plan_objects)
    assert (users.updated, users.unchanged) == (1, 1)
