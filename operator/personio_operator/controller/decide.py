"""What one tick of one integration should do. Pure: the same inputs always give the same action.

Order matters: an interrupted run is recorded first; a Test may run any time (it writes nothing);
nothing else happens while ``spec.active`` is false; a spec that cannot be used is reported (once
per generation) and nothing runs until it is fixed; activation beats a pending run request (the
activation run satisfies it); a manual run is allowed while paused; a paused integration only
looks for a reason to resume; otherwise the schedule decides.

:meth:`View.of` reads whatever the object holds without failing: the spec through the models
(problems become ``spec_error``), the status leaving out what cannot be read, annotations as strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from personio_operator.api.run import RunTrigger, Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.api.status import MAX_REQUEST, MAX_STARTED_BY, PersonioIntegrationStatus, Phase
from personio_operator.controller.schedule import Schedule
from personio_operator.controller.status import invalid_spec_reported, one_line, shows_invalid_spec
from personio_operator.controller.triggers import (
    RUN_REQUEST_ANNOTATION,
    TEST_REQUEST_ANNOTATION,
    UNKNOWN_REQUESTER,
    Request,
    pending_request,
)
from personio_operator.errors import ConfigurationError

SCHEDULE_STARTER = "schedule"
ACTIVATION_STARTER = "activation"
MAX_SPEC_PROBLEMS = 5
_REPAIR_PASSES = 3


class ActionKind(StrEnum):
    RECORD_INTERRUPTED = "RecordInterrupted"
    TEST = "Test"
    RUN = "Run"
    MARK_INACTIVE = "MarkInactive"
    IGNORE_RUN_REQUEST = "IgnoreRunRequest"
    REPORT_INVALID_SPEC = "ReportInvalidSpec"
    ACCEPT_SPEC = "AcceptSpec"
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
    reason: str = ""  # why (Resume, IgnoreRunRequest) or what to fix (ReportInvalidSpec)


@dataclass(frozen=True)
class View:
    """The parts of the object a decision reads, whatever the object holds."""

    generation: int | None
    annotations: Mapping[str, str]
    active: bool
    spec: PersonioIntegrationSpec | None  # None: the spec cannot be used (see spec_error)
    spec_error: str | None
    schedule: Schedule | None  # set whenever spec is
    status: PersonioIntegrationStatus

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> View:
        meta = _mapping(obj.get("metadata"))
        raw_spec = obj.get("spec")
        spec, schedule, error = read_spec(raw_spec)
        generation = meta.get("generation")
        return cls(
            generation=generation if isinstance(generation, int) and not isinstance(generation, bool) else None,
            annotations=_annotations(meta.get("annotations")),
            active=spec.active if spec else _mapping(raw_spec).get("active", True) is not False,
            spec=spec,
            spec_error=error,
            schedule=schedule,
            status=read_status(obj.get("status")),
        )


def read_spec(raw: Any) -> tuple[PersonioIntegrationSpec | None, Schedule | None, str | None]:
    """The spec and its schedule, or what to fix: the models' messages, or why the schedule cannot be used."""
    if not isinstance(raw, Mapping):
        return None, None, "the spec is invalid: spec must be an object"
    try:
        spec = PersonioIntegrationSpec.model_validate(dict(raw))
    except ValidationError as err:
        errors = err.errors(include_input=False, include_url=False)
        problems = "; ".join(f"spec.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:MAX_SPEC_PROBLEMS])
        more = f" (and {len(errors) - MAX_SPEC_PROBLEMS} more)" if len(errors) > MAX_SPEC_PROBLEMS else ""
        return None, None, f"the spec is invalid: {problems}{more}"
    except Exception as err:  # a check that failed in a way it does not foresee: still the spec's problem
        return None, None, f"the spec is invalid: it could not be checked ({type(err).__name__})"
    try:
        return spec, Schedule(spec.schedule, spec.time_zone), None
    except ConfigurationError as err:
        return None, None, str(err)


def read_status(raw: Any) -> PersonioIntegrationStatus:
    """The status as last written, leaving out what cannot be read (written by hand or by another
    version): a list item that does not fit is dropped, any other field that does not fit too."""
    data: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
    for _ in range(_REPAIR_PASSES):
        try:
            return PersonioIntegrationStatus.model_validate(data)
        except ValidationError as err:
            data = _without_errors(data, err)
    return PersonioIntegrationStatus()


def _without_errors(data: dict[str, Any], err: ValidationError) -> dict[str, Any]:
    dropped_fields: set[str] = set()
    dropped_items: dict[str, set[int]] = {}
    for error in err.errors(include_input=False, include_url=False):
        loc = error["loc"]
        if not loc or not isinstance(loc[0], str):
            return {}
        field = loc[0]
        if len(loc) > 1 and isinstance(loc[1], int) and isinstance(data.get(field), list):
            dropped_items.setdefault(field, set()).add(loc[1])
        else:
            dropped_fields.add(field)
    kept = {key: value for key, value in data.items() if key not in dropped_fields}
    for field, indexes in dropped_items.items():
        if field in kept:
            kept[field] = [item for index, item in enumerate(kept[field]) if index not in indexes]
    return kept


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _annotations(raw: Any) -> dict[str, str]:
    """String annotations; a request value too long to record in status is replaced by its digest."""
    annotations = {k: v for k, v in _mapping(raw).items() if isinstance(k, str) and isinstance(v, str)}
    for key in (RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION):
        value = annotations.get(key)
        if value is not None and len(value) > MAX_REQUEST:
            digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
            annotations[key] = f"sha256:{digest} by {_requester(Request(value), limit=128)}"
    return annotations


def _requester(request: Request, *, limit: int = MAX_STARTED_BY) -> str:
    """Who asked, as status and Events can show it: one line, bounded."""
    return one_line(request.requested_by, limit) or UNKNOWN_REQUESTER


def decide(view: View, now: datetime, *, in_flight: Collection[str], secrets_check_due: bool) -> Action:
    status = view.status
    if status.current_run is not None and status.current_run.id not in in_flight:
        return Action(ActionKind.RECORD_INTERRUPTED)

    test = pending_request(view.annotations, TEST_REQUEST_ANNOTATION, status.last_handled_test_request)
    if test is not None:
        return Action(ActionKind.TEST, started_by=_requester(test), request=test)

    run_request = pending_request(view.annotations, RUN_REQUEST_ANNOTATION, status.last_handled_run_request)
    if not view.active:
        if run_request is not None:
            return Action(ActionKind.IGNORE_RUN_REQUEST, request=run_request, reason="spec.active is false")
        if status.phase is not Phase.INACTIVE:
            return Action(ActionKind.MARK_INACTIVE)
        return Action(ActionKind.IDLE)

    if view.spec_error is not None or view.schedule is None:
        problem = view.spec_error or "the spec is invalid"
        if run_request is not None:
            return Action(ActionKind.IGNORE_RUN_REQUEST, request=run_request, reason=problem)
        if not invalid_spec_reported(status, view.generation):
            return Action(ActionKind.REPORT_INVALID_SPEC, reason=problem)
        return Action(ActionKind.IDLE)
    if shows_invalid_spec(status):
        return Action(ActionKind.ACCEPT_SPEC)

    if status.phase is Phase.INACTIVE or status.last_scheduled_slot is None:
        return Action(
            ActionKind.RUN,
            trigger=Trigger.ACTIVATION,
            started_by=ACTIVATION_STARTER,
            slot=view.schedule.latest_slot(now),  # marked handled: activation happens once
            request=run_request,
        )

    if run_request is not None:
        return Action(ActionKind.RUN, trigger=Trigger.MANUAL, started_by=_requester(run_request), request=run_request)

    if status.paused_generation is not None:
        if view.generation != status.paused_generation:
            return Action(ActionKind.RESUME, reason="the spec changed")
        if secrets_check_due:
            return Action(ActionKind.CHECK_SECRETS)
        return Action(ActionKind.IDLE)

    slot = view.schedule.due_slot(now, status.last_scheduled_slot)
    if slot is not None:
        return Action(ActionKind.RUN, trigger=Trigger.SCHEDULED, started_by=SCHEDULE_STARTER, slot=slot)
    return Action(ActionKind.IDLE)


def next_run_time(view: View, now: datetime, *, paused: bool) -> datetime | None:
    if not view.active or paused or view.schedule is None:
        return None
    return view.schedule.next_slot(now)
