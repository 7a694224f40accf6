"""Status patches (JSON merge patches of ``.status``): conditions, phase, the next run, bounded run history.

Every function is pure: it takes the integration as read (an :class:`Integration`, parsed once) and
returns the patch, so the rules are unit-testable and the controller only decides *when* to write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personio_operator.api.run import RunResult, RunTrigger
from personio_operator.api.status import (
    MAX_APP_LIMITS,
    MAX_ATTRIBUTE_NAME,
    MAX_CONDITIONS,
    MAX_HISTORY,
    MAX_MISSING_ATTRIBUTES,
    MAX_OBJECT_WORD,
    MAX_REJECTED_LABEL,
    MAX_REJECTED_LISTED,
    MAX_REJECTED_NAME,
    MAX_REJECTION_REASON,
    MAX_SECRET_VERSIONS,
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
    Notification,
    Phase,
    RejectedObject,
    RejectionSummary,
    TestOutcome,
    WarningCount,
    WarningSummary,
)
from personio_operator.controller.integration import Integration
from personio_operator.controller.text import one_line, rfc3339, timestamp
from personio_operator.errors import ErrorKind
from personio_operator.sync import report as run_report
from personio_operator.sync.rejections import listing, object_label
from personio_operator.sync.report import RunReport

Patch = dict[str, Any]

INVALID_SPEC = "InvalidSpec"  # reason of Ready=False while the spec cannot be used


# What the NEXT RUN column and `kubectl describe` say when no run is scheduled.
NOT_SCHEDULED_PAUSED = (
    "none while paused: automatic runs resume when the spec or a referenced Secret changes, "
    "or after a successful manual run"
)
NOT_SCHEDULED_INACTIVE = "none while inactive: spec.active is false"
NOT_SCHEDULED_INVALID = "none until the spec is fixed (see the Ready condition)"


def next_run_time(item: Integration, now: datetime, *, paused: bool | None = None) -> datetime | None:
    """The next scheduled run; None while paused, inactive or with a spec that cannot be used."""
    paused = item.paused if paused is None else paused
    if not item.active or paused or item.schedule is None:
        return None
    return item.schedule.next_slot(now)


def next_run_text(item: Integration, now: datetime, *, paused: bool | None = None) -> str:
    """The next run in words: its time, or why there is none."""
    paused = item.paused if paused is None else paused
    when = next_run_time(item, now, paused=paused)
    if when is not None:
        return rfc3339(when) or ""
    if not item.active:
        return NOT_SCHEDULED_INACTIVE
    if item.schedule is None:
        return NOT_SCHEDULED_INVALID
    return NOT_SCHEDULED_PAUSED


def _base(item: Integration, now: datetime, *, paused: bool | None = None) -> Patch:
    return {
        "observedGeneration": item.generation,
        "nextRunTime": rfc3339(next_run_time(item, now, paused=paused)),
        "nextRun": next_run_text(item, now, paused=paused),
    }


def is_current(item: Integration, now: datetime) -> bool:
    """Whether observedGeneration and the next run in status are what they should be now."""
    status = item.status
    shown = {
        "observedGeneration": status.observed_generation,
        "nextRunTime": rfc3339(status.next_run_time),
        "nextRun": status.next_run,
    }
    return shown == _base(item, now)


def refreshed(item: Integration, *, now: datetime) -> Patch:
    """Keep observedGeneration and the next run current between runs."""
    return _base(item, now)


def set_conditions(
    current: Iterable[Condition],
    updates: Iterable[tuple[ConditionType, ConditionStatus, str, str]],
    *,
    now: datetime,
    generation: int | None,
) -> list[dict[str, Any]]:
    """Merge condition updates by type; lastTransitionTime moves only when the status flips. Ours come first,
    and types beyond the bound (written by someone else) are left out."""
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
    return [condition.model_dump(mode="json", by_alias=True) for condition in ordered[:MAX_CONDITIONS]]


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


def history_entry(
    report: RunReport,
    trigger: RunTrigger,
    *,
    result: RunResult | None = None,
    notification: Notification | None = None,
) -> HistoryEntry:
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
        notification=notification,
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


def _history(item: Integration, entry: HistoryEntry) -> list[dict[str, Any]]:
    limit = min(item.history_limit, MAX_HISTORY)
    entries = [entry, *(old for old in item.status.history if old.id != entry.id)][:limit]
    return [_entry_json(each) for each in entries]


def _entry_json(entry: HistoryEntry) -> dict[str, Any]:
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not data.get("rejectedObjects"):
        data.pop("rejectedObjects", None)
    data["startTime"] = rfc3339(entry.start_time)
    if entry.completion_time:
        data["completionTime"] = rfc3339(entry.completion_time)
    return data


def run_started(
    item: Integration,
    run: CurrentRun,
    *,
    now: datetime,
    slot: datetime | None,
    run_request: str | None,
) -> Patch:
    """Written before the run starts: a crash after this point is recorded as Interrupted, and the
    slot is already marked handled so a restart never runs it twice."""
    patch = _base(item, now)
    patch["currentRun"] = {**run.model_dump(mode="json", by_alias=True), "startTime": rfc3339(run.start_time)}
    patch["lastRunTime"] = rfc3339(run.start_time)
    patch["phase"] = Phase.RUNNING.value
    if slot is not None:
        patch["lastScheduledSlot"] = rfc3339(slot)
    if run_request is not None:
        patch["lastHandledRunRequest"] = run_request
    message = f"Run {run.id} ({run.trigger.value}, started by {run.started_by}) since {rfc3339(run.start_time)}"
    patch["conditions"] = set_conditions(
        item.status.conditions,
        [(ConditionType.RUNNING, ConditionStatus.TRUE, "RunInProgress", message)],
        now=now,
        generation=item.generation,
    )
    return patch


@dataclass(frozen=True)
class Outcome:
    """How a finished run changes the pause state."""

    paused: bool
    pause_generation: int | None = None
    pause_secret_versions: dict[str, str] | None = None


def run_finished(
    item: Integration,
    report: RunReport,
    trigger: RunTrigger,
    outcome: Outcome,
    *,
    now: datetime,
    how_to_resume: str,
    notification: Notification | None = None,
) -> Patch:
    patch = _base(item, now, paused=outcome.paused)
    patch["currentRun"] = None
    patch["lastRunResult"] = report.result.value
    patch["history"] = _history(item, history_entry(report, trigger, notification=notification))
    patch["lastRunWarnings"] = _warnings_json(report.warning_summary)
    patch["lastRunRejections"] = _rejections_json(report)
    if report.succeeded:
        patch["lastSuccessfulRunTime"] = rfc3339(report.completed_at or report.started_at)
    if outcome.paused:
        patch["pausedGeneration"] = outcome.pause_generation
        versions = outcome.pause_secret_versions or {}
        patch["pausedSecretVersions"] = [
            {"name": name, "resourceVersion": version} for name, version in sorted(versions.items())
        ][:MAX_SECRET_VERSIONS]
    else:
        patch["pausedGeneration"] = None
        patch["pausedSecretVersions"] = None
        if item.paused:
            patch.update(_skip_slots_missed_while_paused(item, now))
    patch["phase"] = phase_of(
        active=item.active,
        running=False,
        paused=outcome.paused,
        last_result=report.result,
        resumed=False,
        spec_valid=item.spec_error is None,
    ).value
    updates = [(ConditionType.RUNNING, ConditionStatus.FALSE, "Idle", f"Run {report.id} finished")]
    if report.succeeded:
        reason = "RunSucceededWithRejections" if report.rejected else "RunSucceeded"
        updates.append((ConditionType.READY, ConditionStatus.TRUE, reason, succeeded_message(report)))
    else:
        reason = f"{(report.error_kind or ErrorKind.TRANSIENT).value}Error"
        updates.append((ConditionType.READY, ConditionStatus.FALSE, reason, report.error or "the run failed"))
    if outcome.paused:
        message = (
            f"Automatic runs are paused after run {report.id} failed: no run is scheduled until the integration "
            f"resumes. {how_to_resume}"
        )
        updates.append((ConditionType.PAUSED, ConditionStatus.TRUE, "RunFailed", message))
    else:
        updates.append((ConditionType.PAUSED, ConditionStatus.FALSE, "NotPaused", "Automatic runs are scheduled"))
    patch["conditions"] = set_conditions(item.status.conditions, updates, now=now, generation=item.generation)
    return patch


INTERRUPTED_AT_START = "The operator stopped while this run was in flight; it is safe to run again."


def run_interrupted(item: Integration, *, now: datetime, report: RunReport | None = None) -> Patch:
    """A run was in flight when the operator stopped; record it (it is safe to repeat). ``report``: what the
    cut run had done, when this process still knows it (at shutdown); found at start-up there is none."""
    run = item.status.current_run
    assert run is not None
    entry = HistoryEntry(
        id=run.id,
        trigger=run.trigger,
        started_by=run.started_by,
        start_time=run.start_time,
        completion_time=None,
        result=RunResult.INTERRUPTED,
        error=one_line(report.error) if report is not None and report.error else INTERRUPTED_AT_START,
    )
    if report is not None:
        entry = entry.model_copy(
            update={"users": report.users, "teams": report.teams, "completion_time": timestamp(now)}
        )
    patch = _base(item, now)
    patch["currentRun"] = None
    patch["lastRunResult"] = RunResult.INTERRUPTED.value
    patch["history"] = _history(item, entry)
    patch["lastRunWarnings"] = None
    patch["lastRunRejections"] = None
    patch["phase"] = phase_of(
        active=item.active,
        running=False,
        paused=item.paused,
        last_result=None,
        resumed=False,
        spec_valid=item.spec_error is None,
    ).value
    patch["conditions"] = set_conditions(
        item.status.conditions,
        [(ConditionType.RUNNING, ConditionStatus.FALSE, "Interrupted", f"Run {run.id} was interrupted")],
        now=now,
        generation=item.generation,
    )
    return patch


def dry_run_finished(item: Integration, report: RunReport, request: str) -> Patch:
    test = report.test
    last_test = LastTest(
        time=timestamp(report.completed_at or report.started_at),
        started_by=report.started_by,
        result=TestOutcome.PASSED if report.succeeded else TestOutcome.FAILED,
        error=one_line(report.error) if report.error else None,
        personio_reachable=bool(test and test.personio_reachable),
        target_reachable=bool(test and test.target_reachable),
        employees_fetched=test.employees_fetched if test else 0,
        missing_attributes=[
            one_line(name, MAX_ATTRIBUTE_NAME)
            for name in (test.missing_attributes if test else [])[:MAX_MISSING_ATTRIBUTES]
        ],
        app_limits=[one_line(line, MAX_WARNING_LINE) for line in report.app_limits[:MAX_APP_LIMITS]],
        users=report.users,
        teams=report.teams,
        warnings=warning_summary(report.warning_summary),
    )
    # None stays in as null: a merge patch keeps any field it leaves out (an older Test's error).
    data = last_test.model_dump(mode="json", by_alias=True)
    data["time"] = rfc3339(last_test.time)
    return {"observedGeneration": item.generation, "lastTest": data, "lastHandledTestRequest": request}


def _skip_slots_missed_while_paused(item: Integration, now: datetime) -> Patch:
    """Slots that came due while paused are skipped, not run when the pause ends (a manual run may just
    have succeeded, and whether one passed would decide whether a run starts at once)."""
    last = item.status.last_scheduled_slot
    if item.schedule is None or last is None:
        return {}
    latest = item.schedule.latest_slot(now)
    return {"lastScheduledSlot": rfc3339(latest)} if latest > last else {}


def resumed(item: Integration, why: str, *, now: datetime) -> Patch:
    patch = _base(item, now, paused=False)
    patch["pausedGeneration"] = None
    patch["pausedSecretVersions"] = None
    patch.update(_skip_slots_missed_while_paused(item, now))
    patch["phase"] = phase_of(
        active=item.active,
        running=False,
        paused=False,
        last_result=item.status.last_run_result,
        resumed=True,
        spec_valid=item.spec_error is None,
    ).value
    patch["conditions"] = set_conditions(
        item.status.conditions,
        [(ConditionType.PAUSED, ConditionStatus.FALSE, "Resumed", f"Automatic runs resumed: {why}")],
        now=now,
        generation=item.generation,
    )
    return patch


def inactive(item: Integration, *, now: datetime) -> Patch:
    patch = _base(item, now)
    patch["phase"] = Phase.INACTIVE.value
    patch["conditions"] = set_conditions(
        item.status.conditions,
        [(ConditionType.READY, ConditionStatus.FALSE, "Inactive", "spec.active is false: no runs until it is true")],
        now=now,
        generation=item.generation,
    )
    return patch


def invalid_spec(item: Integration, problem: str, *, now: datetime) -> Patch:
    """The spec cannot be used: say what to fix; no runs (and no next run time) until it is fixed."""
    patch = _base(item, now)
    patch["phase"] = Phase.INVALID.value
    if item.status.phase is Phase.INACTIVE:
        patch["lastScheduledSlot"] = None  # switched on: the activation run happens once the spec is fixed
    patch["conditions"] = set_conditions(
        item.status.conditions,
        [(ConditionType.READY, ConditionStatus.FALSE, INVALID_SPEC, f"No runs until the spec is fixed: {problem}")],
        now=now,
        generation=item.generation,
    )
    return patch


def invalid_spec_reported(item: Integration) -> bool:
    """Whether status already says that this generation of the spec cannot be used."""
    ready = _ready(item)
    return (
        item.status.phase is Phase.INVALID
        and ready is not None
        and ready.reason == INVALID_SPEC
        and ready.observed_generation == item.generation
    )


def shows_invalid_spec(item: Integration) -> bool:
    ready = _ready(item)
    return item.status.phase is Phase.INVALID or (ready is not None and ready.reason == INVALID_SPEC)


def _ready(item: Integration) -> Condition | None:
    return next((c for c in item.status.conditions if c.type == ConditionType.READY.value), None)


def spec_accepted(item: Integration, *, now: datetime) -> Patch:
    """The spec is usable again: the phase follows the pause state, Ready the last run (if any)."""
    status = item.status
    patch = _base(item, now)
    patch["phase"] = phase_of(
        active=item.active, running=False, paused=item.paused, last_result=status.last_run_result, resumed=False
    ).value
    if status.last_run_result is RunResult.SUCCEEDED and not item.paused:
        ready = (ConditionType.READY, ConditionStatus.TRUE, "SpecAccepted", "The spec is valid; runs are scheduled")
    else:
        message = "The spec is valid; the next run will tell whether it works"
        ready = (ConditionType.READY, ConditionStatus.UNKNOWN, "SpecAccepted", message)
    patch["conditions"] = set_conditions(status.conditions, [ready], now=now, generation=item.generation)
    return patch
