"""What to do with one integration now, and when to look at it again. Pure: the same inputs always give
the same answer.

Order matters: what earlier versions left on the object is cleaned up first; an interrupted run is
recorded; a Test may run any time (it writes nothing); nothing else happens while ``spec.active`` is
false; a spec that cannot be used is reported (once per generation) and nothing runs until it is fixed;
activation beats a pending run request (the activation run satisfies it); a manual run is allowed while
paused; a paused integration only looks for a reason to resume; otherwise the schedule decides, and
between runs the status is kept current (observed generation, next run).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from personio_operator.api.run import RunTrigger, Trigger
from personio_operator.api.status import Phase
from personio_operator.controller.integration import Integration, requester
from personio_operator.controller.status import invalid_spec_reported, is_current, shows_invalid_spec
from personio_operator.controller.triggers import Request

SCHEDULE_STARTER = "schedule"
ACTIVATION_STARTER = "activation"


class ActionKind(StrEnum):
    CLEAN_UP = "CleanUp"  # remove the annotations earlier versions left
    RECORD_INTERRUPTED = "RecordInterrupted"
    TEST = "Test"
    RUN = "Run"
    MARK_INACTIVE = "MarkInactive"
    IGNORE_RUN_REQUEST = "IgnoreRunRequest"
    REPORT_INVALID_SPEC = "ReportInvalidSpec"
    ACCEPT_SPEC = "AcceptSpec"
    RESUME = "Resume"
    CHECK_SECRETS = "CheckSecrets"
    REFRESH = "Refresh"  # observedGeneration and the next run in status are behind
    IDLE = "Idle"

    @property
    def needs_run_slot(self) -> bool:
        return self in (ActionKind.RUN, ActionKind.TEST)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    trigger: RunTrigger | None = None
    started_by: str | None = None
    slot: datetime | None = None  # the schedule slot this run handles
    request: Request | None = None  # the annotation request this action handles
    reason: str = ""  # why (Resume, IgnoreRunRequest) or what to fix (ReportInvalidSpec)


IDLE = Action(ActionKind.IDLE)


def decide(item: Integration, now: datetime, *, in_flight: Collection[str], secrets_check_due: bool) -> Action:
    """``in_flight``: ids of the runs this process has in flight; ``secrets_check_due``: a paused
    integration's Secrets were not looked at for a while."""
    status = item.status
    if item.deleting:
        return IDLE
    if item.leftovers:
        return Action(ActionKind.CLEAN_UP)
    if status.current_run is not None:
        if status.current_run.id in in_flight:
            return IDLE  # the run decides what comes next when it ends
        return Action(ActionKind.RECORD_INTERRUPTED)

    test = item.test_request
    if test is not None:
        return Action(ActionKind.TEST, started_by=requester(test), request=test)

    run_request = item.run_request
    if not item.active:
        if run_request is not None:
            return Action(ActionKind.IGNORE_RUN_REQUEST, request=run_request, reason="spec.active is false")
        if status.phase is not Phase.INACTIVE:
            return Action(ActionKind.MARK_INACTIVE)
        return _refresh_if_behind(item, now)

    if item.spec_error is not None or item.schedule is None:
        problem = item.spec_error or "the spec is invalid"
        if run_request is not None:
            return Action(ActionKind.IGNORE_RUN_REQUEST, request=run_request, reason=problem)
        if not invalid_spec_reported(item):
            return Action(ActionKind.REPORT_INVALID_SPEC, reason=problem)
        return _refresh_if_behind(item, now)
    if shows_invalid_spec(item):
        return Action(ActionKind.ACCEPT_SPEC)

    if status.phase is Phase.INACTIVE or status.last_scheduled_slot is None:
        return Action(
            ActionKind.RUN,
            trigger=Trigger.ACTIVATION,
            started_by=ACTIVATION_STARTER,
            slot=item.schedule.latest_slot(now),  # marked handled: activation happens once
            request=run_request,
        )

    if run_request is not None:
        return Action(ActionKind.RUN, trigger=Trigger.MANUAL, started_by=requester(run_request), request=run_request)

    if item.paused:
        if item.generation != status.paused_generation:
            return Action(ActionKind.RESUME, reason="the spec changed")
        if secrets_check_due:
            return Action(ActionKind.CHECK_SECRETS)
        return _refresh_if_behind(item, now)

    slot = item.schedule.due_slot(now, status.last_scheduled_slot)
    if slot is not None:
        return Action(ActionKind.RUN, trigger=Trigger.SCHEDULED, started_by=SCHEDULE_STARTER, slot=slot)
    return _refresh_if_behind(item, now)


def _refresh_if_behind(item: Integration, now: datetime) -> Action:
    return IDLE if is_current(item, now) else Action(ActionKind.REFRESH)


def next_due(item: Integration, now: datetime) -> datetime | None:
    """When the schedule next needs a look at an idle integration (its next slot), or None while nothing
    but a change of the object can make a run due (inactive, paused, spec unusable, being deleted)."""
    if item.deleting or not item.active or item.paused or item.schedule is None:
        return None
    return item.schedule.next_slot(now)


def watches_secrets(item: Integration) -> bool:
    """A paused integration resumes when a Secret it names changes: those are looked at now and then."""
    return item.paused and item.active and item.schedule is not None and not item.deleting
