"""The planner on hand-built states: pure and fast."""

from __future__ import annotations

from personio_operator.scim.models import (
    ALL_USER_FIELDS,
    IDENTITY_FIELDS,
    DesiredState,
    ScimUser,
    TargetState,
    UserField,
)
from personio_operator.scim.plan import REASON_INACTIVE, REASON_NOT_IN_PERSONIO, GroupAction, UserAction
from personio_operator.scim.planner import plan_target
from tests.scim.factories import desired_group, desired_user, scim_group, scim_user_for


def _fields(op) -> dict[str, tuple]:
    return {change.field: (change.old, change.new) for change in op.changes}


def test_unknown_users_are_created_and_known_unchanged_ones_are_left_alone():
    ada, bob = desired_user(1), desired_user(2)
    current = TargetState(users=[scim_user_for(ada, "a")])

    plan = plan_target(DesiredState(users=[ada, bob]), current)

    assert [(op.action, op.external_id) for op in plan.users] == [(UserAction.CREATE, "personio:2")]
    assert plan.users[0].desired == bob
    assert plan.users_unchanged == 1
    assert plan.managed_users_before == 1
    assert plan.counts()[0].created == 1


def test_update_lists_only_the_attributes_that_differ():
    ada = desired_user(1, title="Lead", department="Research", email="Ada@acme.example")
    current = TargetState(
        users=[scim_user_for(ada, "a", title="Engineer", department="Engineering", email="ada@acme.example")]
    )

    plan = plan_target(DesiredState(users=[ada]), current)

    (op,) = plan.users
    assert op.action is UserAction.UPDATE
    assert _fields(op) == {
        "title": ("Engineer", "Lead"),
        "department": ("Engineering", "Research"),
        "emails": ("ada@acme.example", "Ada@acme.example"),  # a casing fix is an update, not a new user
    }


def test_title_is_not_compared_when_not_managed_and_language_only_on_create():
    ada = desired_user(1, title=None, managed=ALL_USER_FIELDS - {UserField.TITLE}, preferred_language="en")
    current = TargetState(users=[scim_user_for(ada, "a", title="Set by hand", preferred_language="de")])

    plan = plan_target(DesiredState(users=[ada]), current)

    assert plan.is_empty
    assert plan.users_unchanged == 1


def test_unmanaged_user_with_same_user_name_is_adopted_case_insensitively():
    ada = desired_user(1)
    hand_made = ScimUser(id="h", user_name="PERSON1@acme.example", given_name="Ada", family_name="Family1")

    plan = plan_target(DesiredState(users=[ada]), TargetState(users=[hand_made]))

    (op,) = plan.users
    assert op.action is UserAction.ADOPT
    assert op.user_id == "h"
    changes = _fields(op)
    assert changes["externalId"] == (None, "personio:1")
    assert changes["userName"] == ("PERSON1@acme.example", "person1@acme.example")
    assert changes["name.givenName"] == ("Ada", "Given1")
    assert plan.counts()[0].updated == 1


def test_user_name_held_by_a_foreign_external_id_is_a_conflict_without_ops():
    ada = desired_user(1)
    other_tool = ScimUser(id="o", user_name="person1@acme.example", external_id="okta-123")

    plan = plan_target(DesiredState(users=[ada]), TargetState(users=[other_tool]))

    assert plan.users == []
    assert any("person1@acme.example" in warning and "okta-123" in warning for warning in plan.warnings)


def test_user_name_held_by_another_of_our_accounts_says_how_to_hand_it_over():
    # A rehire under a new Personio id: the old person's account (ours) still holds the e-mail. It is
    # never re-keyed on a guess, and the warning must not call it foreign but say how to hand it over.
    rehired = desired_user(2, user_name="person1@acme.example", email="person1@acme.example")
    old_account = scim_user_for(desired_user(1), "a", active=False)

    plan = plan_target(DesiredState(users=[rehired]), TargetState(users=[old_account]))

    assert plan.users == []
    (warning,) = plan.warnings
    assert "personio:1" in warning and "not ours" not in warning
    assert "clear its externalId" in warning


def test_inactive_desired_user_is_deactivated_and_never_created_or_adopted():
    ada, bob, cid = desired_user(1, active=False), desired_user(2, active=False), desired_user(3, active=False)
    current = TargetState(users=[scim_user_for(ada, "a", active=True), ScimUser(id="h", user_name=bob.user_name)])

    plan = plan_target(DesiredState(users=[ada, bob, cid]), current)

    (op,) = plan.users
    assert (op.action, op.user_id, op.reason) == (UserAction.DEACTIVATE, "a", REASON_INACTIVE)
    assert _fields(op) == {"active": (True, False)}
    assert [d.external_id for d in plan.deactivations] == ["personio:1"]


def test_managed_users_gone_from_desired_are_deactivated_once_and_unmanaged_never():
    gone_active = ScimUser(id="g1", user_name="gone@acme.example", external_id="personio:7", active=True)
    gone_inactive = ScimUser(id="g2", user_name="old@acme.example", external_id="personio:8", active=False)
    hand_made = ScimUser(id="h", user_name="admin@acme.example", active=True)

    plan = plan_target(DesiredState(), TargetState(users=[gone_active, gone_inactive, hand_made]))

    (op,) = plan.users
    assert (op.action, op.user_id, op.reason) == (UserAction.DEACTIVATE, "g1", REASON_NOT_IN_PERSONIO)
    assert plan.managed_users_before == 1  # active managed users


def test_reactivation_carries_the_other_changes():
    ada = desired_user(1, department="Sales")
    current = TargetState(users=[scim_user_for(ada, "a", active=False, department="Engineering")])

    plan = plan_target(DesiredState(users=[ada]), current)

    (op,) = plan.users
    assert op.action is UserAction.REACTIVATE
    assert _fields(op) == {"active": (False, True), "department": ("Engineering", "Sales")}
    assert plan.counts()[0].reactivated == 1


def test_manager_links_follow_the_ids_known_after_the_run():
    boss = desired_user(1)
    linked = desired_user(2, manager_external_id="personio:1")
    moved = desired_user(3, manager_external_id="personio:4")
    newcomer = desired_user(4, manager_external_id="personio:1")
    orphan = desired_user(5, manager_external_id="personio:99")
    current = TargetState(
        users=[
            scim_user_for(boss, "b"),
            scim_user_for(linked, "l", manager_id="b"),
            scim_user_for(moved, "m", manager_id="b"),
            scim_user_for(orphan, "o", manager_id="b"),
        ]
    )

    plan = plan_target(DesiredState(users=[boss, linked, moved, newcomer, orphan]), current)

    links = {link.external_id: (link.manager_external_id, link.old_manager_id) for link in plan.manager_links}
    assert links == {
        "personio:3": ("personio:4", "b"),  # the new manager is created in this run
        "personio:4": ("personio:1", None),
        "personio:5": (None, "b"),  # unknown manager: link cleared, with a warning
    }
    assert any("personio:99" in warning for warning in plan.warnings)


def test_groups_create_rename_members_and_remove_touch_only_managed_ones():
    ada, bob, cid = desired_user(1), desired_user(2), desired_user(3)
    users = [scim_user_for(ada, "a"), scim_user_for(bob, "b"), scim_user_for(cid, "c")]
    current_groups = [
        scim_group("g1", "Department Eng", "personio:department:1", ["a", "b", "hand"]),
        scim_group("g2", "Team Old Name", "personio:team:5", ["a"]),
        scim_group("g3", "Office Gone", "personio:office:9", ["c"]),
        scim_group("g4", "Office Gone", None, ["c"]),  # hand-made, same name: never touched
        scim_group("g5", "Unchanged", "personio:office:1", ["c"]),
    ]
    desired = DesiredState(
        users=[ada, bob, cid],
        groups=[
            desired_group("department", "1", "Department Eng", [1, 3]),
            desired_group("team", "5", "Team New Name", [1]),
            desired_group("supervisor", "1", "Given1's Team", [2, 3]),
            desired_group("office", "1", "Unchanged", [3]),
        ],
    )

    plan = plan_target(desired, TargetState(users=users, groups=current_groups))

    ops = {op.external_id: op for op in plan.groups}
    assert [op.action for op in plan.groups] == [
        GroupAction.CREATE,
        GroupAction.RENAME,
        GroupAction.MEMBERS,
        GroupAction.REMOVE,
    ]
    assert ops["personio:supervisor:1"].add_external_ids == ["personio:2", "personio:3"]
    rename = ops["personio:team:5"]
    assert (rename.group_id, rename.old_display_name, rename.display_name) == ("g2", "Team Old Name", "Team New Name")
    members = ops["personio:department:1"]
    # "hand" is not a managed user: it is never removed
    assert (members.add_external_ids, members.remove_external_ids) == (["personio:3"], ["personio:2"])
    assert ops["personio:office:9"].group_id == "g3"
    assert "g4" not in {op.group_id for op in plan.groups}
    assert plan.groups_unchanged == 1
    _, counts = plan.counts()
    assert (counts.created, counts.updated, counts.removed, counts.unchanged) == (1, 2, 1, 1)


def test_plan_is_deterministic_whatever_the_input_order():
    users = [desired_user(i, manager_external_id="personio:1" if i > 1 else None) for i in range(1, 30)]
    groups = [desired_group("team", str(i), f"Team {i}", list(range(1, i + 2))) for i in range(5)]
    current = TargetState(users=[scim_user_for(user, f"id{user.external_id}") for user in users[::3]])

    forward = plan_target(DesiredState(users=users, groups=groups), current)
    backward = plan_target(DesiredState(users=users[::-1], groups=groups[::-1]), current)

    assert forward == backward
    keys = [(list(UserAction).index(op.action), op.external_id) for op in forward.users]
    assert keys == sorted(keys)


def test_duplicate_user_names_in_desired_do_not_create_two_accounts():
    first, second = desired_user(1), desired_user(2, user_name="person1@acme.example", email="person1@acme.example")

    plan = plan_target(DesiredState(users=[first, second]), TargetState())

    assert [op.external_id for op in plan.users] == ["personio:1"]
    assert any("personio:2" in warning for warning in plan.warnings)


def test_an_address_the_app_spells_in_punycode_is_the_same_mailbox():
    muller = desired_user(1, user_name="müller@bücher.de", email="müller@bücher.de")
    in_app = scim_user_for(muller, "m", user_name="müller@xn--bcher-kva.de", email="MÜLLER@XN--BCHER-KVA.DE".lower())

    plan = plan_target(DesiredState(users=[muller]), TargetState(users=[in_app]))

    assert plan.is_empty and plan.users_unchanged == 1


def test_an_unmanaged_user_in_punycode_is_adopted_not_duplicated():
    muller = desired_user(1, user_name="müller@bücher.de", email="müller@bücher.de")
    hand_made = ScimUser(id="h", user_name="müller@xn--bcher-kva.de", given_name="M", family_name="M")

    plan = plan_target(DesiredState(users=[muller]), TargetState(users=[hand_made]))

    (op,) = plan.users
    assert op.action is UserAction.ADOPT and op.user_id == "h"
    assert "userName" not in _fields(op)


def test_planner_warnings_have_kinds_and_show_app_values_cleanly():
    ada = desired_user(1)
    other_tool = ScimUser(id="o\x1b[2J", user_name="person1@acme.example", external_id="okta\u202e-1" + "x" * 5000)
    hand_made_group = scim_group("g", "IT", None, [])  # ours is cleaned to the same name
    wanted_group = desired_group("department", "9", "\x1b[31mIT", [1])

    plan = plan_target(
        DesiredState(users=[ada], groups=[wanted_group]), TargetState(users=[other_tool], groups=[hand_made_group])
    )

    kinds = {w.kind.value for w in plan.warnings}
    assert {"UserNameTaken", "HandMadeGroup", "NoAccount"} <= kinds
    assert all("\x1b" not in w.text and "\u202e" not in w.text and len(w.text) < 600 for w in plan.warnings)


def test_unmanaged_attributes_are_never_planned_for_updates_adoptions_or_manager_links():
    core_only = IDENTITY_FIELDS | {UserField.GIVEN_NAME, UserField.FAMILY_NAME, UserField.EMAILS}
    boss = desired_user(1, managed=core_only)
    ours = desired_user(2, managed=core_only, manager_external_id="personio:1")
    newcomer = desired_user(3, managed=core_only, manager_external_id="personio:1")
    current = TargetState(
        users=[
            scim_user_for(boss, "b", title=None, user_type=None, employee_number=None, department=None),
            scim_user_for(ours, "o", title="Other", department="Elsewhere", manager_id=None),
            scim_user_for(newcomer, "n", external_id=None, title=None, user_type="Vendor"),  # hand-made: adopted
        ]
    )

    plan = plan_target(DesiredState(users=[boss, ours, newcomer]), current)

    (adopt,) = plan.users
    assert adopt.action is UserAction.ADOPT
    assert [change.field for change in adopt.changes] == ["externalId"]
    assert plan.manager_links == []
    assert plan.users_unchanged == 2
