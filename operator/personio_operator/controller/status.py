"""Status patches (JSON merge patches of ``.status``): conditions, phase, bounded run history.

Every function is pure: it takes the status as read from the cluster and returns the patch, so
the rules are unit-testable and the controller only decides *when* to write.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from personio_operator.api.run import RunResult, RunTrigger, TestResult
from personio_operator.api.status import (
    MAX_APP_LIMITS,
    MAX_MESSAGE,
    MAX_OBJECT_WORD,
    MAX_REJECTED_LABEL,
    MAX_REJECTED_LISTED,
    MAX_REJECTED_NAME,
    MAX_REJECTION_REASON,
    MAX_WARNING_EXAMPLES,
    MAX_WARNING_KIND,
    MAX_WARNING_KINDS,
    MAX_WARNING_LINE,
    Condition,
    ConditionStatus,
    ConditionType,
    CurrentRun,
    HistoryEntry,
    LastTest,
    PersonioIntegrationStatus,
    Phase,
    RejectedObject,
    RejectionSummary,
    TestOutcome,
    WarningCount,
    WarningSummary,
)
from personio_operator.errors import ErrorKind
from personio_operator.sync import report as run_report
from personio_operator.sync.rejections import listing, object_label
from personio_operator.sync.report import RunReport

Patch = dict[str, Any]

INVALID_SPEC = "InvalidSpec"  # reason of Ready=False while the spec cannot be used


def timestamp(moment: datetime) -> datetime:
    """UTC, whole seconds: what Kubernetes itself writes."""
    return moment.astimezone(UTC).replace(microsecond=0)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Messages go to `kubectl describe` and Events: one line, no control characters, bounded."""
    flat = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value


def _dump_time(moment: datetime | None) -> str | None:
    return None if moment is None else timestamp(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ObjectState:
    """What a patch needs to know about the object besides its status."""

    generation: int | None
    active: bool
    history_limit: int
    next_run: datetime | None  # None while paused, inactive or with an unusable spec
    spec_valid: bool = True


def set_conditions(
    current: Iterable[Condition],
    updates: Iterable[tuple[ConditionType, ConditionStatus, str, str]],
    *,
    now: datetime,
    generation: int | None,
) -> list[dict[str, Any]]:
    """Merge condition updates by type; lastTransitionTime moves only when the status flips."""
    by_type = {condition.type: condition for condition in current}
    for kind, status, reason, message in updates:
        previous = by_type.get(kind.value)
        transition = previous.last_transition_time if previous and previous.status == status else timestamp(now)
        by_type[kind.value] = Condition(
            type=kind.value,
            status=status,
            reason=reason,
            message=one_line(message),
            last_transition_time=transition,
            observed_generation=generation,
        )
    order = [kind.value for kind in ConditionType]
    ordered = sorted(by_type.values(), key=lambda c: order.index(c.type) if c.type in order else len(order))
    return [condition.model_dump(mode="json", by_alias=True) for condition in ordered]


def phase_of(
    *,
    active: bool,
    running: bool,
    paused: bool,
    last_result: RunResult | None,
    resumed: bool,
    spec_valid: bool = True,
) -> Phase:
    if not active:
        return Phase.INACTIVE
    if running:
        return Phase.RUNNING
    if not spec_valid:
        return Phase.INVALID
    if paused:
        return Phase.PAUSED
    if last_result is RunResult.FAILED and resumed:
        return Phase.FAILING
    return Phase.ACTIVE


def _base(state: ObjectState) -> Patch:
    return {"observedGeneration": state.generation, "nextRunTime": _dump_time(state.next_run)}


def history_entry(report: RunReport, trigger: RunTrigger, result: RunResult | None = None) -> HistoryEntry:
    return HistoryEntry(
        id=report.id,
        trigger=trigger,
        started_by=report.started_by,
        start_time=timestamp(report.started_at),
        completion_time=timestamp(report.completed_at) if report.completed_at else None,
        result=result or report.result,
        error=one_line(report.error) if report.error else None,
        warnings=report.warning_summary.total,
        rejected=report.rejected if report.rejected or report.rejection_limit is not None else None,
        rejected_objects=rejected_labels(report),
        users=report.users,
        teams=report.teams,
    )


def rejected_labels(report: RunReport) -> list[str]:
    """'User create anna@acme.example' for the first rejected objects, then 'and N more'."""
    labels = [one_line(object_label(obj, MAX_REJECTED_NAME), MAX_REJECTED_LABEL) for obj in report.rejected_objects]
    return listing(labels, limit=MAX_REJECTED_LISTED)


def rejection_summary(report: RunReport) -> RejectionSummary | None:
    """The last run's rejected objects with the app's reasons (None if there were none)."""
    if not report.rejected:
        return None
    return RejectionSummary(
        total=report.rejected,
        tolerated=max(0, report.rejection_limit or 0),
        objects=[
            RejectedObject(
                kind=one_line(obj.kind, MAX_OBJECT_WORD),
                action=one_line(obj.action, MAX_OBJECT_WORD),
                name=one_line(obj.name, MAX_REJECTED_NAME),
                reason=one_line(obj.error or "no reason given", MAX_REJECTION_REASON),
                http_status=obj.http_status if obj.http_status and 100 <= obj.http_status <= 599 else None,
            )
            for obj in report.rejected_objects[:MAX_REJECTED_LISTED]
        ],
    )


def _rejections_json(report: RunReport) -> dict[str, Any] | None:
    summary = rejection_summary(report)
    return None if summary is None else summary.model_dump(mode="json", by_alias=True, exclude_none=True)


def succeeded_message(report: RunReport) -> str:
    """Ready's message after a successful run: says so when the app rejected some objects."""
    if not report.rejected:
        return f"Run {report.id} succeeded"
    noun = "object" if report.rejected == 1 else "objects"
    return (
        f"Run {report.id} succeeded, but the app rejected {report.rejected} {noun} (see status.lastRunRejections); "
        "the next run tries them again"
    )


def warning_summary(summary: run_report.WarningSummary) -> WarningSummary | None:
    """The run's warnings as status shows them (None if there were none): counts by kind, most
    frequent first, and the first few warnings, each cut to one bounded line."""
    if summary.total <= 0:
        return None
    kinds = sorted(summary.by_kind.items(), key=lambda item: (-item[1], item[0]))
    return WarningSummary(
        total=summary.total,
        by_kind=[
            WarningCount(kind=one_line(kind, MAX_WARNING_KIND) or "Other", count=max(count, 0))
            for kind, count in kinds[:MAX_WARNING_KINDS]
        ],
        first=[one_line(line, MAX_WARNING_LINE) for line in summary.first[:MAX_WARNING_EXAMPLES]],
    )


def _warnings_json(summary: run_report.WarningSummary) -> dict[str, Any] | None:
    shown = warning_summary(summary)
    return None if shown is None else shown.model_dump(mode="json", by_alias=True)


def _history(status: PersonioIntegrationStatus, entry: HistoryEntry, limit: int) -> list[dict[str, Any]]:
    entries = [entry, *(old for old in status.history if old.id != entry.id)][:limit]
    return [_entry_json(item) for item in entries]


def _entry_json(entry: HistoryEntry) -> dict[str, Any]:
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not data.get("rejectedObjects"):
        data.pop("rejectedObjects", None)
    data["startTime"] = _dump_time(entry.start_time)
    if entry.completion_time:
        data["completionTime"] = _dump_time(entry.completion_time)
    return data


def run_started(
    status: PersonioIntegrationStatus,
    state: ObjectState,
    run: CurrentRun,
    *,
    now: datetime,
    slot: datetime | None,
    run_request: str | None,
) -> Patch:
    """Written before the run starts: a crash after this point is recorded as Interrupted, and the
    slot is already marked handled so a restart never runs it twice."""
    patch = _base(state)
    patch["currentRun"] = {**_dump(run), "startTime": _dump_time(run.start_time)}
    patch["lastRunTime"] = _dump_time(run.start_time)
    patch["phase"] = Phase.RUNNING.value
    if slot is not None:
        patch["lastScheduledSlot"] = _dump_time(slot)
    if run_request is not None:
        patch["lastHandledRunRequest"] = run_request
    message = f"Run {run.id} ({run.trigger.value}, started by {run.started_by}) since {_dump_time(run.start_time)}"
    patch["conditions"] = set_conditions(
        status.conditions,
        [(ConditionType.RUNNING, ConditionStatus.TRUE, "RunInProgress", message)],
        now=now,
        generation=state.generation,
    )
    return patch


@dataclass(frozen=True)
class Outcome:
    """How a finished run changes the pause state."""

    paused: bool
    pause_generation: int | None = None
    pause_secret_versions: dict[str, str] | None = None


def run_finished(
    status: PersonioIntegrationStatus,
    state: ObjectState,
    report: RunReport,
    trigger: RunTrigger,
    outcome: Outcome,
    *,
    now: datetime,
    how_to_resume: str,
) -> Patch:
    patch = _base(state)
    patch["currentRun"] = None
    patch["lastRunResult"] = report.result.value
    patch["history"] = _history(status, history_entry(report, trigger), state.history_limit)
    patch["lastRunWarnings"] = _warnings_json(report.warning_summary)
    patch["lastRunRejections"] = _rejections_json(report)
    if report.succeeded:
        patch["lastSuccessfulRunTime"] = _dump_time(report.completed_at or report.started_at)
    if outcome.paused:
        patch["pausedGeneration"] = outcome.pause_generation
        patch["pausedSecretVersions"] = outcome.pause_secret_versions or {}
        patch["nextRunTime"] = None
    else:
        patch["pausedGeneration"] = None
        patch["pausedSecretVersions"] = None
    patch["phase"] = phase_of(
        active=state.active,
        running=False,
        paused=outcome.paused,
        last_result=report.result,
        resumed=False,
        spec_valid=state.spec_valid,
    ).value
    updates = [(ConditionType.RUNNING, ConditionStatus.FALSE, "Idle", f"Run {report.id} finished")]
    if report.succeeded:
        reason = "RunSucceededWithRejections" if report.rejected else "RunSucceeded"
        updates.append((ConditionType.READY, ConditionStatus.TRUE, reason, succeeded_message(report)))
    else:
        reason = f"{(report.error_kind or ErrorKind.TRANSIENT).value}Error"
        updates.append((ConditionType.READY, ConditionStatus.FALSE, reason, report.error or "the run failed"))
    if outcome.paused:
        message = f"Automatic runs are paused after run {report.id} failed. {how_to_resume}"
        updates.append((ConditionType.PAUSED, ConditionStatus.TRUE, "RunFailed", message))
    else:
        updates.append((ConditionType.PAUSED, ConditionStatus.FALSE, "NotPaused", "Automatic runs are scheduled"))
    patch["conditions"] = set_conditions(status.conditions, updates, now=now, generation=state.generation)
    return patch


def run_interrupted(status: PersonioIntegrationStatus, state: ObjectState, *, now: datetime) -> Patch:
    """A run was in flight when the operator stopped; record it (it is safe to repeat)."""
    run = status.current_run
    assert run is not None
    entry = HistoryEntry(
        id=run.id,
        trigger=run.trigger,
        started_by=run.started_by,
        start_time=run.start_time,
        completion_time=None,
        result=RunResult.INTERRUPTED,
        error="The operator stopped while this run was in flight; it is safe to run again.",
    )
    patch = _base(state)
    patch["currentRun"] = None
    patch["lastRunResult"] = RunResult.INTERRUPTED.value
    patch["history"] = _history(status, entry, state.history_limit)
    patch["lastRunWarnings"] = None
    patch["lastRunRejections"] = None
    patch["phase"] = phase_of(
        active=state.active,
        running=False,
        paused=status.paused_generation is not None,
        last_result=None,
        resumed=False,
        spec_valid=state.spec_valid,
    ).value
    patch["conditions"] = set_conditions(
        status.conditions,
        [(ConditionType.RUNNING, ConditionStatus.FALSE, "Interrupted", f"Run {run.id} was interrupted")],
        now=now,
        generation=state.generation,
    )
    return patch


def dry_run_finished(status: PersonioIntegrationStatus, state: ObjectState, report: RunReport, request: str) -> Patch:
    last_test = LastTest(
        **(report.test or TestResult()).model_dump(),
        time=timestamp(report.completed_at or report.started_at),
        started_by=report.started_by,
        result=TestOutcome.PASSED if report.succeeded else TestOutcome.FAILED,
        error=one_line(report.error) if report.error else None,
        app_limits=[one_line(line, MAX_WARNING_LINE) for line in report.app_limits[:MAX_APP_LIMITS]],
        users=report.users,
        teams=report.teams,
        warnings=warning_summary(report.warning_summary),
    )
    # None stays in as null: a merge patch keeps any field it leaves out (an older Test's error).
    data = last_test.model_dump(mode="json", by_alias=True)
    data["time"] = _dump_time(last_test.time)
    return {"observedGeneration": state.generation, "lastTest": data, "lastHandledTestRequest": request}


def resumed(status: PersonioIntegrationStatus, state: ObjectState, why: str, *, now: datetime) -> Patch:
    patch = _base(state)
    patch["pausedGeneration"] = None
    patch["pausedSecretVersions"] = None
    patch["phase"] = phase_of(
        active=state.active,
        running=False,
        paused=False,
        last_result=status.last_run_result,
        resumed=True,
        spec_valid=state.spec_valid,
    ).value
    patch["conditions"] = set_conditions(
        status.conditions,
        [(ConditionType.PAUSED, ConditionStatus.FALSE, "Resumed", f"Automatic runs resumed: {why}")],
        now=now,
        generation=state.generation,
    )
    return patch


def inactive(status: PersonioIntegrationStatus, state: ObjectState, *, now: datetime) -> Patch:
    patch = _base(state)
    patch["nextRunTime"] = None
    patch["phase"] = Phase.INACTIVE.value
    patch["conditions"] = set_conditions(
        status.conditions,
        [(ConditionType.READY, ConditionStatus.FALSE, "Inactive", "spec.active is false: no runs until it is true")],
        now=now,
        generation=state.generation,
    )
    return patch


def invalid_spec(status: PersonioIntegrationStatus, state: ObjectState, problem: str, *, now: datetime) -> Patch:
    """The spec cannot be used: say what to fix; no runs (and no next run time) until it is fixed."""
    patch = _base(state)
    patch["nextRunTime"] = None
    patch["phase"] = Phase.INVALID.value
    if status.phase is Phase.INACTIVE:
        patch["lastScheduledSlot"] = None  # switched on: the activation run happens once the spec is fixed
    patch["conditions"] = set_conditions(
        status.conditions,
        [(ConditionType.READY, ConditionStatus.FALSE, INVALID_SPEC, f"No runs until the spec is fixed: {problem}")],
        now=now,
        generation=state.generation,
    )
    return patch


def invalid_spec_reported(status: PersonioIntegrationStatus, generation: int | None) -> bool:
    """Whether status already says that this generation of the spec cannot be used."""
    ready = next((c for c in status.conditions if c.type == ConditionType.READY.value), None)
    return (
        status.phase is Phase.INVALID
        and ready is not None
        and ready.reason == INVALID_SPEC
        and ready.observed_generation == generation
    )


def shows_invalid_spec(status: PersonioIntegrationStatus) -> bool:
    ready = next((c for c in status.conditions if c.type == ConditionType.READY.value), None)
    return status.phase is Phase.INVALID or (ready is not None and ready.reason == INVALID_SPEC)


def spec_accepted(status: PersonioIntegrationStatus, state: ObjectState, *, now: datetime) -> Patch:
    """The spec is usable again: the phase follows the pause state, Ready the last run (if any)."""
    paused = status.paused_generation is not None
    patch = _base(state)
    patch["phase"] = phase_of(
        active=state.active, running=False, paused=paused, last_result=status.last_run_result, resumed=False
    ).value
    if status.last_run_result is RunResult.SUCCEEDED and not paused:
        ready = (ConditionType.READY, ConditionStatus.TRUE, "SpecAccepted", "The spec is valid; runs are scheduled")
    else:
        message = "The spec is valid; the next run will tell whether it works"
        ready = (ConditionType.READY, ConditionStatus.UNKNOWN, "SpecAccepted", message)
    patch["conditions"] = set_conditions(status.conditions, [ready], now=now, generation=state.generation)
    return patch


def idle(status: PersonioIntegrationStatus, state: ObjectState) -> Patch | None:
    """Keep nextRunTime/observedGeneration current between runs; None when nothing changed."""
    patch = _base(state)
    current = {"observedGeneration": status.observed_generation, "nextRunTime": _dump_time(status.next_run_time)}
    return None if patch == current else patch
