"""What one tick of one integration should do. Pure: the same inputs always give the same action.

Order matters: an interrupted run is recorded first; a Test may run any time (it writes nothing);
nothing else happens while ``spec.active`` is false; activation beats a pending run request (the
activation run satisfies it); a manual run is allowed while paused; a paused integration only
looks for a reason to resume; otherwise the schedule decides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from personio_operator.api.status import PersonioIntegrationStatus, Phase, RunTrigger
from personio_operator.controller.schedule import Schedule
from personio_operator.controller.triggers import (
    RUN_REQUEST_ANNOTATION,
    TEST_REQUEST_ANNOTATION,
    Request,
    pending_request,
)
from personio_operator.errors import ConfigurationError

SCHEDULE_STARTER = "schedule"
ACTIVATION_STARTER = "activation"
DEFAULT_SCHEDULE = "0 4 * * *"
DEFAULT_TIME_ZONE = "UTC"


class ActionKind(StrEnum):
    RECORD_INTERRUPTED = "RecordInterrupted"
    TEST = "Test"
    RUN = "Run"
    MARK_INACTIVE = "MarkInactive"
    IGNORE_RUN_REQUEST = "IgnoreRunRequest"
    RESUME = "Resume"
    CHECK_SECRETS = "CheckSecrets"
    IDLE = "Idle"


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    trigger: RunTrigger | None = None
    started_by: str | None = None
    slot: datetime | None = None  # the schedule slot this run handles
    request: Request | None = None  # the annotation request this action handles
    reason: str = ""  # why (for Resume)


@dataclass(frozen=True)
class View:
    """The parts of the object a decision reads, tolerant of an invalid spec."""

    generation: int | None
    annotations: Mapping[str, str]
    active: bool
    schedule: Schedule | None  # None: unusable schedule (a configuration error)
    schedule_error: str | None
    status: PersonioIntegrationStatus

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> View:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        try:
            schedule: Schedule | None = Schedule(
                str(spec.get("schedule", DEFAULT_SCHEDULE)), str(spec.get("timeZone", DEFAULT_TIME_ZONE))
            )
            error = None
        except ConfigurationError as err:
            schedule, error = None, str(err)
        return cls(
            generation=meta.get("generation"),
            annotations=meta.get("annotations") or {},
            active=spec.get("active", True) is not False,
            schedule=schedule,
            schedule_error=error,
            status=PersonioIntegrationStatus.model_validate(obj.get("status") or {}),
        )


def decide(view: View, now: datetime, *, in_flight: Collection[str], secrets_check_due: bool) -> Action:
    status = view.status
    if status.current_run is not None and status.current_run.id not in in_flight:
        return Action(ActionKind.RECORD_INTERRUPTED)

    test = pending_request(view.annotations, TEST_REQUEST_ANNOTATION, status.last_handled_test_request)
    if test is not None:
        return Action(ActionKind.TEST, started_by=test.requested_by, request=test)

    run_request = pending_request(view.annotations, RUN_REQUEST_ANNOTATION, status.last_handled_run_request)
    if not view.active:
        if run_request is not None:
            return Action(ActionKind.IGNORE_RUN_REQUEST, request=run_request)
        if status.phase is not Phase.INACTIVE:
            return Action(ActionKind.MARK_INACTIVE)
        return Action(ActionKind.IDLE)

    if status.phase is Phase.INACTIVE or status.last_scheduled_slot is None:
        # Marking a slot handled (even `now` when the schedule is unusable) makes activation happen once.
        slot = view.schedule.latest_slot(now) if view.schedule else now
        return Action(
            ActionKind.RUN,
            trigger=RunTrigger.ACTIVATION,
            started_by=ACTIVATION_STARTER,
            slot=slot,
            request=run_request,
        )

    if run_request is not None:
        return Action(
            ActionKind.RUN, trigger=RunTrigger.MANUAL, started_by=run_request.requested_by, request=run_request
        )

    if status.paused_generation is not None:
        if view.generation != status.paused_generation:
            return Action(ActionKind.RESUME, reason="the spec changed")
        if secrets_check_due:
            return Action(ActionKind.CHECK_SECRETS)
        return Action(ActionKind.IDLE)

    if view.schedule is None:
        # An unusable schedule is a configuration error: report it through a failing run (which pauses).
        return Action(ActionKind.RUN, trigger=RunTrigger.SCHEDULED, started_by=SCHEDULE_STARTER)

    slot = view.schedule.due_slot(now, status.last_scheduled_slot)
    if slot is not None:
        return Action(ActionKind.RUN, trigger=RunTrigger.SCHEDULED, started_by=SCHEDULE_STARTER, slot=slot)
    return Action(ActionKind.IDLE)


def next_run_time(view: View, now: datetime, *, paused: bool) -> datetime | None:
    if not view.active or paused or view.schedule is None:
        return None
    return view.schedule.next_slot(now)
