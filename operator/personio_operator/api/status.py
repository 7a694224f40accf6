"""Status of the PersonioIntegration custom resource, written only by the operator.

The CRD's status schema is generated from these models, so every field the operator writes must
be declared here (undeclared fields are pruned by the API server). Nothing in here is secret.
Times are RFC 3339 strings in UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, get_origin

from annotated_types import MaxLen
from pydantic import Field, field_validator, model_validator

from personio_operator.api.run import CamelModel, RunResult, RunTrigger, TeamCounts, UserCounts
from personio_operator.api.spec import MAX_HISTORY_LIMIT

# Bounds of what the operator writes (the builders in controller/status.py cut to them), so a status
# stays small and the API server never refuses a write for a value's size.
MAX_MESSAGE = 1000  # errors and condition messages: one line
MAX_STARTED_BY = 256  # who asked for a run (from an annotation)
MAX_REQUEST = 256  # a handled request annotation value (a longer one is recorded by its digest)
MAX_WARNING_LINE = 300
MAX_WARNING_EXAMPLES = 5
MAX_WARNING_KINDS = 10
MAX_WARNING_KIND = 63
MAX_REJECTED_LISTED = 20  # rejected objects named in a history entry and in lastRunRejections
MAX_REJECTED_LABEL = 120  # "User create anna@acme.example"
MAX_REJECTED_NAME = 100
MAX_REJECTION_REASON = 300
MAX_OBJECT_WORD = 32  # an object's kind or action
MAX_APP_LIMITS = 5  # lines saying what the app does not take (there are at most three kinds today)
MAX_CONDITIONS = 8  # Ready, Paused, Running, and room for types a later version adds
MAX_HISTORY = MAX_HISTORY_LIMIT  # the largest spec.historyLimit
MAX_MISSING_ATTRIBUTES = 20  # Personio attributes the credentials cannot read (the integration reads ten)
MAX_ATTRIBUTE_NAME = 64
MAX_SECRET_VERSIONS = 2  # the Personio credentials and the SCIM token
MAX_RUN_ID = 64


class StatusModel(CamelModel):
    """A part of the status (unknown fields ignored: the status read back may carry older versions' fields)."""

    @model_validator(mode="before")
    @classmethod
    def _cut_long_lists(cls, data: Any) -> Any:
        """Every list has a bound (the CRD's maxItems): a longer one is cut to it, first items kept, so a
        status built from a large run or read from an older version is never refused for its length."""
        if not isinstance(data, dict):
            return data
        cut: dict[str, Any] | None = None
        for name, field in cls.model_fields.items():
            limit = list_bound(field.annotation, field.metadata)
            if limit is None:
                continue
            for key in {field.alias or name, name}:
                value = data.get(key)
                if isinstance(value, list) and len(value) > limit:
                    cut = cut if cut is not None else dict(data)
                    cut[key] = value[:limit]
        return data if cut is None else cut


def list_bound(annotation: Any, metadata: list[Any]) -> int | None:
    """The max_length of a list field, None for any other field."""
    if get_origin(annotation) is not list:
        return None
    return next((item.max_length for item in metadata if isinstance(item, MaxLen)), None)


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class ConditionType(StrEnum):
    READY = "Ready"  # the last run succeeded and runs are scheduled
    PAUSED = "Paused"  # automatic runs stopped after a failure, until the spec or a Secret changes
    RUNNING = "Running"  # a run is in flight


class Condition(StatusModel):
    """A ``metav1.Condition``."""

    type: str = Field(max_length=316, description="Ready, Paused or Running.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(min_length=1, max_length=1024, description="CamelCase reason for the last transition.")
    message: str = Field(default="", max_length=32768, description="Human-readable details.")
    last_transition_time: datetime = Field(description="When the status last changed.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation this condition was computed from."
    )


class Phase(StrEnum):
    ACTIVE = "Active"  # scheduled runs happen; the last run (if any) succeeded
    RUNNING = "Running"  # a run is in flight
    FAILING = "Failing"  # resumed (spec or Secret changed) after a failed run; the next run will tell
    PAUSED = "Paused"  # a run failed; no scheduled runs until the spec or a Secret changes
    INACTIVE = "Inactive"  # spec.active is false
    INVALID = "Invalid"  # the spec cannot be used (see the Ready condition); no runs until it is fixed


class SecretVersion(StatusModel):
    """A Secret a failed run read, and its resourceVersion then (a list item: kubectl shows map keys humanised)."""

    name: str = Field(max_length=253, description="Name of the Secret in the integration's namespace.")
    resource_version: str = Field(
        max_length=64, description="Its resourceVersion when the run read it; empty if it did not exist."
    )


class Notification(StatusModel):
    """Whether the owners were e-mailed about a failed run, and if not, why."""

    emailed: bool = Field(description="true if the failure e-mail was handed to the SMTP server.")
    message: str = Field(
        max_length=MAX_MESSAGE,
        description="To whom, or why not: no SMTP server configured, delivery failed, no addresses in the spec.",
    )


class WarningCount(StatusModel):
    kind: str = Field(max_length=MAX_WARNING_KIND, description="Kind of warning, e.g. HeldPerson.")
    count: int = Field(ge=0, description="How many warnings of this kind.")


class WarningSummary(StatusModel):
    """Per-person warnings of a run or Test (people held, cycles, names cut); the rest are in the logs."""

    total: int = Field(default=0, ge=0, description="Number of warnings.")
    by_kind: list[WarningCount] = Field(
        default_factory=list, max_length=MAX_WARNING_KINDS, description="Counts by kind, most frequent first."
    )
    first: list[Annotated[str, Field(max_length=MAX_WARNING_LINE)]] = Field(
        default_factory=list, max_length=MAX_WARNING_EXAMPLES, description="The first few warnings, one line each."
    )


class RejectedObject(StatusModel):
    """One object the app rejected (or whose payload failed the check before it was sent)."""

    kind: str = Field(max_length=MAX_OBJECT_WORD, description="User, Group or ManagerLink.")
    action: str = Field(max_length=MAX_OBJECT_WORD, description="create, update, deactivate, rename, members...")
    name: str = Field(max_length=MAX_REJECTED_NAME, description="userName or team name.")
    reason: str = Field(max_length=MAX_REJECTION_REASON, description="What the app (or the payload check) said.")
    http_status: int | None = Field(default=None, ge=100, le=599, description="The app's answer, if it answered.")


class RejectionSummary(StatusModel):
    """Objects the last run could not write because the app rejected them; the next run tries them again."""

    total: int = Field(default=0, ge=0, description="Number of rejected objects.")
    tolerated: int = Field(
        default=0, ge=0, description="Rejections a run tolerates (max(5, 1 % of its changes)); more fail the run."
    )
    objects: list[RejectedObject] = Field(
        default_factory=list, max_length=MAX_REJECTED_LISTED, description="The first rejected objects."
    )


class HistoryEntry(StatusModel):
    """One run, as the run table of the product shows it."""

    id: str = Field(max_length=MAX_RUN_ID, description="Run id (also in the operator's logs).")
    trigger: RunTrigger = Field(description="Scheduled, Manual or Activation.")
    started_by: str = Field(max_length=MAX_STARTED_BY, description="'schedule' or the person who asked for the run.")
    start_time: datetime
    completion_time: datetime | None = None
    result: RunResult = Field(description="Succeeded, Failed or Interrupted.")
    error: str | None = Field(default=None, max_length=MAX_MESSAGE, description="What went wrong and what to fix.")
    users: UserCounts = Field(default_factory=UserCounts)
    teams: TeamCounts = Field(default_factory=TeamCounts)
    warnings: int | None = Field(
        default=None, ge=0, description="Per-person warnings of the run (see lastRunWarnings); absent if unknown."
    )
    rejected: int | None = Field(
        default=None,
        ge=0,
        description="Objects the app rejected; the run went on without them and the next run tries them again.",
    )
    rejected_objects: list[Annotated[str, Field(max_length=MAX_REJECTED_LABEL)]] = Field(
        default_factory=list,
        max_length=MAX_REJECTED_LISTED + 1,
        description="The first rejected objects ('User create anna@acme.example'), then 'and N more'.",
    )
    notification: Notification | None = Field(
        default=None, description="Failed runs: whether the owners were e-mailed, and if not, why."
    )


class CurrentRun(StatusModel):
    """Set while a run is in flight; found at start-up it means the run was interrupted."""

    id: str = Field(max_length=MAX_RUN_ID)
    trigger: RunTrigger
    started_by: str = Field(max_length=MAX_STARTED_BY)
    start_time: datetime


class TestOutcome(StrEnum):
    PASSED = "Passed"
    FAILED = "Failed"


class LastTest(StatusModel):
    """Result of the last Test (plan only, nothing written)."""

    time: datetime
    started_by: str = Field(max_length=MAX_STARTED_BY)
    result: TestOutcome
    error: str | None = Field(default=None, max_length=MAX_MESSAGE)
    personio_reachable: bool = False
    target_reachable: bool = False
    employees_fetched: int = 0
    missing_attributes: list[Annotated[str, Field(max_length=MAX_ATTRIBUTE_NAME)]] = Field(
        default_factory=list,
        max_length=MAX_MISSING_ATTRIBUTES,
        description="Personio attributes the API credentials cannot read.",
    )
    app_limits: list[Annotated[str, Field(max_length=MAX_WARNING_LINE)]] = Field(
        default_factory=list,
        max_length=MAX_APP_LIMITS,
        description="What the app does not take (from its /Schemas and /ResourceTypes), in words; not synced.",
    )
    users: UserCounts = Field(default_factory=UserCounts, description="What a run would change.")
    teams: TeamCounts = Field(default_factory=TeamCounts, description="What a run would change.")
    warnings: WarningSummary | None = Field(default=None, description="Per-person warnings; absent if none.")


class PersonioIntegrationStatus(StatusModel):
    observed_generation: int | None = Field(default=None, description="metadata.generation last acted on.")
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    phase: Phase | None = Field(
        default=None, description="Active, Running, Failing, Paused, Inactive or Invalid (the spec needs a fix)."
    )
    next_run_time: datetime | None = Field(default=None, description="Next scheduled run (none while paused).")
    next_run: str | None = Field(
        default=None,
        max_length=MAX_MESSAGE,
        description="The next scheduled run, or why there is none (paused, inactive, spec invalid) in words.",
    )
    last_run_time: datetime | None = Field(default=None, description="Start of the last run.")
    last_run_result: RunResult | None = Field(default=None, description="Succeeded, Failed or Interrupted.")
    last_successful_run_time: datetime | None = None
    last_scheduled_slot: datetime | None = Field(
        default=None, description="The schedule slot already handled; a slot never runs twice."
    )
    paused_generation: int | None = Field(
        default=None, description="Set on failure: no scheduled runs while metadata.generation equals it."
    )
    paused_secret_versions: list[SecretVersion] = Field(
        default_factory=list,
        max_length=MAX_SECRET_VERSIONS,
        description="Each referenced Secret and its resourceVersion when the failed run read it; a change resumes.",
    )
    last_handled_run_request: str | None = Field(
        default=None,
        max_length=MAX_REQUEST,
        description="Value of the hrsync.dev/run-requested-at annotation last acted on (sha256:… if long).",
    )
    last_handled_test_request: str | None = Field(
        default=None,
        max_length=MAX_REQUEST,
        description="Value of the hrsync.dev/test-requested-at annotation last acted on (sha256:… if long).",
    )
    last_test: LastTest | None = None
    current_run: CurrentRun | None = None
    history: list[HistoryEntry] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Last runs, newest first (spec.historyLimit)."
    )
    last_run_warnings: WarningSummary | None = Field(
        default=None, description="Per-person warnings of the last finished run; absent if none."
    )
    last_run_rejections: RejectionSummary | None = Field(
        default=None, description="Objects the app rejected in the last finished run, with its reasons; absent if none."
    )

    @field_validator("paused_secret_versions", mode="before")
    @classmethod
    def _versions_from_a_map(cls, value: object) -> object:
        """Earlier versions wrote a map of name to resourceVersion: read it, so a pause survives the upgrade."""
        if isinstance(value, dict):
            versions = [{"name": name, "resourceVersion": version} for name, version in value.items()]
            return versions[:MAX_SECRET_VERSIONS]
        return value

    def paused_secret_version(self, name: str) -> str | None:
        return next((item.resource_version for item in self.paused_secret_versions if item.name == name), None)
