"""The plan: a deterministic diff between the desired state and the app, applied in order
(users, manager links, groups). Produced by ``scim.planner``, guarded by ``sync.safety``,
applied by ``scim.applier``, rendered by ``sync.render``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from personio_operator.api.run import ObjectAction, ObjectKind, ObjectResult, TeamCounts, UserCounts, count
from personio_operator.run_warnings import RunWarning
from personio_operator.scim.models import DesiredGroup, DesiredUser, UserField


class FieldChange(BaseModel):
    field: UserField  # SCIM-side name, e.g. "title", "name.givenName", "emails", "userName", "active"
    old: Any = None
    new: Any = None


# Why the planner deactivates a user (besides the scope rules' own reasons, e.g. "out of scope ...").
REASON_INACTIVE = "inactive in Personio"
REASON_NOT_IN_PERSONIO = "no longer in Personio"  # the fetch left them out (the runner asks Personio again)


class UserAction(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"  # an unmanaged app user with the same userName: set our externalId (+ changes)
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"  # active=false -> true (+ any other changes)


class UserOp(BaseModel):
    action: UserAction
    external_id: str
    user_name: str
    user_id: str | None = None  # None for CREATE
    changes: list[FieldChange] = Field(default_factory=list)
    desired: DesiredUser | None = None  # set for CREATE / ADOPT / UPDATE / REACTIVATE
    reason: str | None = None  # why a deactivation: REASON_INACTIVE, REASON_NOT_IN_PERSONIO or the scope rule's reason


class ManagerLinkOp(BaseModel):
    external_id: str
    user_name: str
    manager_external_id: str | None  # None clears the link
    old_manager_id: str | None = None


class GroupAction(StrEnum):
    CREATE = "create"
    RENAME = "rename"
    MEMBERS = "members"  # membership changes only
    REMOVE = "remove"


class GroupOp(BaseModel):
    action: GroupAction
    external_id: str
    display_name: str
    group_id: str | None = None
    old_display_name: str | None = None
    add_external_ids: list[str] = Field(default_factory=list)  # users by externalId, sorted
    remove_external_ids: list[str] = Field(default_factory=list)
    # Members that are not ours (hand-added in the app) are never removed; they are listed here
    # only when the group itself is removed, for the record.
    desired: DesiredGroup | None = None


class TargetPlan(BaseModel):
    users: list[UserOp] = Field(default_factory=list)
    manager_links: list[ManagerLinkOp] = Field(default_factory=list)
    groups: list[GroupOp] = Field(default_factory=list)
    users_unchanged: int = 0
    groups_unchanged: int = 0
    managed_users_before: int = 0  # how many users we owned before the run (for % thresholds)
    warnings: list[RunWarning] = Field(default_factory=list)

    def objects(self) -> list[ObjectResult]:
        """The plan as object results, before anything is written: what a Test reports."""
        return [describe_op(op) for op in (*self.users, *self.manager_links, *self.groups)]

    def counts(self, done: Iterable[ObjectResult] | None = None) -> tuple[UserCounts, TeamCounts]:
        """What the plan would change (``done`` left out), or what a run of it changed (``done``: its
        object results). One function for both, so a Test and the run after it say the same."""
        return count(
            self.objects() if done is None else done,
            users_unchanged=self.users_unchanged,
            teams_unchanged=self.groups_unchanged,
            users_planned={op.external_id for op in self.users},
        )

    @property
    def deactivations(self) -> list[UserOp]:
        return [op for op in self.users if op.action is UserAction.DEACTIVATE]

    @property
    def is_empty(self) -> bool:
        return not (self.users or self.manager_links or self.groups)


def describe_op(op: UserOp | ManagerLinkOp | GroupOp) -> ObjectResult:
    """The object result of an op, before anything is written."""
    if isinstance(op, UserOp):
        return ObjectResult(kind=ObjectKind.USER, action=op.action.value, key=op.external_id, name=op.user_name)
    if isinstance(op, ManagerLinkOp):
        return ObjectResult(
            kind=ObjectKind.MANAGER_LINK, action=ObjectAction.LINK, key=op.external_id, name=op.user_name
        )
    return ObjectResult(kind=ObjectKind.GROUP, action=op.action.value, key=op.external_id, name=op.display_name)
