"""Build and check every object's payload before the first write of a run.

The planner only lets through data the payload layer accepts (one e-mail validator, clean texts);
this is the net under that promise. An object whose payload scim2-models refuses is reported for
that object, with the reason, and never sent; the run goes on with the others.
"""

from __future__ import annotations

from personio_operator.api.run import ObjectKind
from personio_operator.safe_text import shown
from personio_operator.scim.payloads import (
    first_error_text,
    group_creation_payload,
    group_rename_payload,
    user_creation_payload,
    user_patch_payload,
)
from personio_operator.scim.plan import GroupAction, GroupOp, TargetPlan, UserAction, UserOp

# Stands in for SCIM ids that only exist once earlier objects are written (managers, members).
_SOME_ID = "preflight"

ObjectKey = tuple[ObjectKind, str]  # (ObjectResult.kind, externalId)


def payload_problems(plan: TargetPlan) -> dict[ObjectKey, str]:
    """Objects of the plan whose payload the app could not be sent, with the reason in words."""
    problems: dict[ObjectKey, str] = {}
    for op in plan.users:
        problem = _user_problem(op)
        if problem is not None:
            problems[(ObjectKind.USER, op.external_id)] = problem
    for group in plan.groups:
        problem = _group_problem(group)
        if problem is not None:
            problems[(ObjectKind.GROUP, group.external_id)] = problem
    return problems


def _user_problem(op: UserOp) -> str | None:
    try:
        if op.action is UserAction.CREATE:
            assert op.desired is not None
            manager_id = _SOME_ID if op.desired.manager_external_id else None
            user_creation_payload(op.desired, manager_id=manager_id)
        elif op.changes:
            user_patch_payload(op.changes)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        return _refused(error)
    return None


def _group_problem(op: GroupOp) -> str | None:
    try:
        if op.action is GroupAction.CREATE:
            group_creation_payload(op.external_id, op.display_name, [_SOME_ID] if op.add_external_ids else [])
        elif op.action is GroupAction.RENAME:
            group_rename_payload(op.display_name)
    except ValueError as error:
        return _refused(error)
    return None


def _refused(error: ValueError) -> str:
    return (
        f"not written: its data would not be a valid SCIM payload ({shown(first_error_text(error), 200)}); "
        "fix the data in Personio and run again"
    )
