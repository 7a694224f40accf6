"""The run report: what the run history shows (started at, started by, status, error,
counts of created / updated / deactivated users and teams) plus per-object results for support.

It is made of the run model (``api.run``): the status embeds the same counts, trigger and result,
so the operator copies them into ``status.history`` entries and Events; the CLI prints the report as
text or, with ``--json``, as ``RunReport.model_dump_json(by_alias=True)``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from personio_operator.api.run import (
    CamelModel,
    ObjectResult,
    RunResult,
    TeamCounts,
    TestResult,
    Trigger,
    UserCounts,
)
from personio_operator.errors import ErrorKind
from personio_operator.scim.plan import TargetPlan


class WarningSummary(CamelModel):
    """A run's per-person warnings, summarised for status and Events (the full list stays in the report)."""

    total: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)  # e.g. {"HeldPerson": 3, "SupervisorCycle": 1}
    first: list[str] = Field(default_factory=list)  # the first few warnings, one line each


class RunReport(CamelModel):
    id: str
    trigger: Trigger
    started_by: str  # "schedule" or the person who asked (e.g. "jane@acme.example")
    dry_run: bool = False
    started_at: datetime
    completed_at: datetime | None = None
    result: RunResult = RunResult.SUCCEEDED
    error: str | None = None
    error_kind: ErrorKind | None = None
    users: UserCounts = Field(default_factory=UserCounts)
    teams: TeamCounts = Field(default_factory=TeamCounts)
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
