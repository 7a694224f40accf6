"""The plan: a deterministic diff between the desired state and the app, applied in order
(users, manager links, groups). Produced by ``scim.planner``, guarded by ``sync.safety``,
applied by ``scim.applier``, rendered by ``sync.render``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from personio_operator.run_warnings import RunWarning
from personio_operator.scim.models import DesiredGroup, DesiredUser, UserField


class FieldChange(BaseModel):
    field: UserField  # SCIM-side name, e.g. "title", "name.givenName", "emails", "userName", "active"
    old: Any = None
    new: Any = None


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
    reason: str | None = None  # e.g. "inactive in Personio", "gone from Personio", "out of scope"


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


class Counts(BaseModel):
    """Per-kind counts of a plan, and of a run report (``sync.report`` uses this same model)."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    removed: int = 0
    unchanged: int = 0


class TargetPlan(BaseModel):
    users: list[UserOp] = Field(default_factory=list)
    manager_links: list[ManagerLinkOp] = Field(default_factory=list)
    groups: list[GroupOp] = Field(default_factory=list)
    users_unchanged: int = 0
    groups_unchanged: int = 0
    managed_users_before: int = 0  # how many users we owned before the run (for % thresholds)
    warnings: list[RunWarning] = Field(default_factory=list)

    def user_counts(self) -> Counts:
        counts = Counts(unchanged=self.users_unchanged)
        for op in self.users:
            if op.action in (UserAction.CREATE,):
                counts.created += 1
            elif op.action in (UserAction.UPDATE, UserAction.ADOPT):
                counts.updated += 1
            elif op.action is UserAction.DEACTIVATE:
                counts.deactivated += 1
            elif op.action is UserAction.REACTIVATE:
                counts.reactivated += 1
        return counts

    def group_counts(self) -> Counts:
        counts = Counts(unchanged=self.groups_unchanged)
        for op in self.groups:
            if op.action is GroupAction.CREATE:
                counts.created += 1
            elif op.action in (GroupAction.RENAME, GroupAction.MEMBERS):
                counts.updated += 1
            elif op.action is GroupAction.REMOVE:
                counts.removed += 1
        return counts

    @property
    def deactivations(self) -> list[UserOp]:
        return [op for op in self.users if op.action is UserAction.DEACTIVATE]

    @property
    def is_empty(self) -> bool:
        return not (self.users or self.manager_links or self.groups)
