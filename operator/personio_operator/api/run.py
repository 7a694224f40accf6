"""The run model: what one run (or Test) was, did and found, in the one shape every part uses.

The run report (``sync.report.RunReport``) is made of these types, the status models embed them
(``status.history[]``, ``status.lastTest``), and the plan's summary and the run report both count
with ``count``, so a Test and the run after it say the same. It imports nothing from the package, so
every layer may use it (``tests/test_layering.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Every model of the API: camelCase on the wire, snake_case in Python; unknown fields ignored
    (a status read back from the cluster may carry fields of older versions)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Trigger(StrEnum):
    SCHEDULED = "Scheduled"
    MANUAL = "Manual"
    ACTIVATION = "Activation"
    TEST = "Test"  # plan only, nothing written


# What a run (as opposed to a Test) can be started by: the status history records only these.
RunTrigger = Literal[Trigger.SCHEDULED, Trigger.MANUAL, Trigger.ACTIVATION]


class RunResult(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"


class ObjectKind(StrEnum):
    USER = "User"
    GROUP = "Group"
    MANAGER_LINK = "ManagerLink"


class ObjectAction(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    LINK = "link"
    RENAME = "rename"
    MEMBERS = "members"
    REMOVE = "remove"


class ObjectResult(CamelModel):
    """One object of a plan, planned (a Test) or written (a run)."""

    kind: ObjectKind
    action: ObjectAction
    key: str  # externalId
    name: str  # userName or displayName, for people
    ok: bool = True
    error: str | None = None
    # A rejection: the app refused this object (a 4xx other than auth, or a 5xx that persisted) or its
    # payload failed our check before the first write. The run goes on with the others; the next run
    # tries it again. Other failures (ok=False, rejected=False) were not attempted because an object
    # they need was rejected, or were cut short when the run stopped.
    rejected: bool = False
    http_status: int | None = None  # what the app answered, when it answered


class UserCounts(CamelModel):
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unchanged: int = 0


class TeamCounts(CamelModel):
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


class TestResult(CamelModel):
    """What a Test (plan only, no writes) found besides the plan."""

    personio_reachable: bool = False
    target_reachable: bool = False
    employees_fetched: int = 0
    missing_attributes: list[str] = Field(
        default_factory=list, description="Personio attributes the API credentials cannot read."
    )


_USER_COUNTER = {
    ObjectAction.CREATE: "created",
    ObjectAction.ADOPT: "updated",
    ObjectAction.UPDATE: "updated",
    ObjectAction.DEACTIVATE: "deactivated",
    ObjectAction.REACTIVATE: "reactivated",
}
_TEAM_COUNTER = {
    ObjectAction.CREATE: "created",
    ObjectAction.RENAME: "updated",
    ObjectAction.MEMBERS: "updated",
    ObjectAction.REMOVE: "removed",
}


def count(
    objects: Iterable[ObjectResult],
    *,
    users_unchanged: int,
    teams_unchanged: int,
    users_planned: Collection[str],
) -> tuple[UserCounts, TeamCounts]:
    """Users and teams by what was done to them: the plan's objects for a Test, the written ones for a run.

    A failed object is counted nowhere (the report lists it). A user whose only change is their manager
    link counts as updated (``users_planned``: the externalIds the plan has a user change for).
    """
    users = UserCounts(unchanged=users_unchanged)
    teams = TeamCounts(unchanged=teams_unchanged)
    link_only: set[str] = set()
    for obj in objects:
        if not obj.ok:
            continue
        if obj.kind is ObjectKind.USER and obj.action in _USER_COUNTER:
            field = _USER_COUNTER[obj.action]
            setattr(users, field, getattr(users, field) + 1)
        elif obj.kind is ObjectKind.GROUP and obj.action in _TEAM_COUNTER:
            field = _TEAM_COUNTER[obj.action]
            setattr(teams, field, getattr(teams, field) + 1)
        elif obj.kind is ObjectKind.MANAGER_LINK and obj.key not in users_planned:
            link_only.add(obj.key)
    users.updated += len(link_only)
    users.unchanged = max(0, users.unchanged - len(link_only))
    return users, teams
