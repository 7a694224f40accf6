"""Fit the generic SCIM plan to what the sync engine knows and the planner cannot:

* held people (bad HR data) are left exactly as they are: never deactivated, and (see ``build_desired``)
  never removed from a team or as someone's manager;
* deactivations say why in words ("inactive in Personio", "out of scope ...", "no longer in Personio");
* attributes Personio did not return for anybody (supervisor, department) are not managed, so a
  credential that stops returning them never clears them in the app.
"""

from __future__ import annotations

from personio_operator.sync.desired import DesiredBuild
from personio_operator.target.models import DesiredGroup, DesiredState, TargetState, is_managed_external_id
from personio_operator.target.plan import TargetPlan, UserAction, UserOp

REASON_GONE = "no longer in Personio"
_DEPARTMENT_FIELD = "department"


def fit_desired(build: DesiredBuild, current: TargetState) -> DesiredState:
    """Drop held people without an account from team member lists, and teams that only they would fill."""
    with_account = {user.external_id for user in current.users if is_managed_external_id(user.external_id)}
    existing_groups = {group.external_id for group in current.groups if is_managed_external_id(group.external_id)}
    groups: list[DesiredGroup] = []
    for group in build.state.groups:
        members = frozenset(m for m in group.member_external_ids if m not in build.held or m in with_account)
        if not members and group.external_id not in existing_groups:
            continue
        groups.append(group.model_copy(update={"member_external_ids": members}))
    return DesiredState(users=build.state.users, groups=groups)


def tailor_plan(plan: TargetPlan, build: DesiredBuild) -> TargetPlan:
    users: list[UserOp] = []
    unchanged = plan.users_unchanged
    for op in plan.users:
        if op.external_id in build.held:
            continue
        if op.action is UserAction.DEACTIVATE and op.desired is None:
            op = op.model_copy(update={"reason": build.inactive_reasons.get(op.external_id, REASON_GONE)})
        if not build.manages_department and any(change.field == _DEPARTMENT_FIELD for change in op.changes):
            changes = [change for change in op.changes if change.field != _DEPARTMENT_FIELD]
            if not changes and op.action is UserAction.UPDATE:
                unchanged += 1
                continue
            op = op.model_copy(update={"changes": changes})
        users.append(op)
    return plan.model_copy(
        update={
            "users": users,
            "users_unchanged": unchanged,
            "manager_links": plan.manager_links if build.manages_manager else [],
        }
    )
