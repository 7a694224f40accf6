"""Per-kind counts for the run report: what a Test would do (from the plan) or what a run did
(from the successful object results). A user whose only change is their manager link counts as
updated; a failed object is counted nowhere (it is listed in the report's objects)."""

from __future__ import annotations

from collections.abc import Iterable

from personio_operator.scim.plan import TargetPlan
from personio_operator.sync.report import Counts, ObjectResult

_USER_FIELD = {"create": "created", "adopt": "updated", "update": "updated", "deactivate": "deactivated"}
_USER_FIELD["reactivate"] = "reactivated"
_GROUP_FIELD = {"create": "created", "rename": "updated", "members": "updated", "remove": "removed"}


def planned_objects(plan: TargetPlan) -> list[ObjectResult]:
    """The plan as not-yet-applied object results (used for a Test's counts)."""
    objects = [
        ObjectResult(kind="User", action=op.action.value, key=op.external_id, name=op.user_name) for op in plan.users
    ]
    objects += [
        ObjectResult(kind="ManagerLink", action="link", key=link.external_id, name=link.user_name)
        for link in plan.manager_links
    ]
    objects += [
        ObjectResult(kind="Group", action=op.action.value, key=op.external_id, name=op.display_name)
        for op in plan.groups
    ]
    return objects


def count(objects: Iterable[ObjectResult], plan: TargetPlan) -> tuple[Counts, Counts]:
    users = Counts(unchanged=plan.users_unchanged)
    teams = Counts(unchanged=plan.groups_unchanged)
    done = [obj for obj in objects if obj.ok]
    users_with_op = {obj.key for obj in done if obj.kind == "User"}
    touched_by_plan = {op.external_id for op in plan.users}
    for obj in done:
        if obj.kind == "User" and obj.action in _USER_FIELD:
            field = _USER_FIELD[obj.action]
            setattr(users, field, getattr(users, field) + 1)
        elif obj.kind == "Group" and obj.action in _GROUP_FIELD:
            field = _GROUP_FIELD[obj.action]
            setattr(teams, field, getattr(teams, field) + 1)
    link_only = {
        obj.key
        for obj in done
        if obj.kind == "ManagerLink" and obj.key not in users_with_op and obj.key not in touched_by_plan
    }
    users.updated += len(link_only)
    users.unchanged = max(0, users.unchanged - len(link_only))
    return users, teams
