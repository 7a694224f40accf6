"""The run report: what the run history shows (started at, started by, status, error,
counts of created / updated / deactivated users and teams) plus per-object results for support.

The operator turns it into ``status.history`` entries and Events; the CLI prints it as text or,
with ``--json``, as ``RunReport.model_dump_json(by_alias=True)``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from personio_operator.errors import ErrorKind
from personio_operator.scim.plan import Counts, TargetPlan


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Trigger(StrEnum):
    SCHEDULED = "Scheduled"
    MANUAL = "Manual"
    ACTIVATION = "Activation"
    TEST = "Test"


class RunResult(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"


class ObjectResult(_Model):
    kind: str  # "User" | "Group" | "ManagerLink"
    action: str  # create / adopt / update / deactivate / reactivate / rename / members / remove / link
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


class TestResult(_Model):
    """What a Test (plan only, no writes) found."""

    personio_reachable: bool = False
    target_reachable: bool = False
    employees_fetched: int = 0
    missing_attributes: list[str] = Field(default_factory=list)


class WarningSummary(_Model):
    """A run's per-person warnings, summarised for status and Events (the full list stays in the report)."""

    total: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)  # e.g. {"HeldPerson": 3, "SupervisorCycle": 1}
    first: list[str] = Field(default_factory=list)  # the first few warnings, one line each


class RunReport(_Model):
    id: str
    trigger: Trigger
    started_by: str  # "schedule" or the person who asked (e.g. "jane@acme.example")
    dry_run: bool = False
    started_at: datetime
    completed_at: datetime | None = None
    result: RunResult = RunResult.SUCCEEDED
    error: str | None = None
    error_kind: ErrorKind | None = None
    users: Counts = Field(default_factory=Counts)
    teams: Counts = Field(default_factory=Counts)
    warnings: list[str] = Field(default_factory=list)
    warning_summary: WarningSummary = Field(default_factory=WarningSummary)
    objects: list[ObjectResult] = Field(default_factory=list)  # failed ones first, then the rest
    rejected: int = 0  # objects the app rejected (see ObjectResult.rejected); the run tolerates rejection_limit
    rejection_limit: int | None = None  # more rejections than this fail the run (None: nothing was written)
    test: TestResult | None = None
    plan_text: str | None = None  # the rendered plan (for Tests and the CLI)
    # What the app does not take (from its /Schemas and /ResourceTypes), in words, once each: those
    # attributes are not synced. Not an error, e.g. "the app does not support the enterprise extension: ...".
    app_limits: list[str] = Field(default_factory=list)
    # The plan itself, for machines (``plan --json``). Left out of dumps unless asked for, so that
    # status.history stays small: ``report.model_dump(by_alias=True, include=...)`` or the CLI.
    plan: TargetPlan | None = Field(default=None, exclude=True)

    @property
    def succeeded(self) -> bool:
        return self.result is RunResult.SUCCEEDED

    @property
    def rejected_objects(self) -> list[ObjectResult]:
        return [obj for obj in self.objects if obj.rejected]
