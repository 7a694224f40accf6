"""A PersonioIntegration as the controller reads it: parsed once per watch event (or read) into a frozen value.

Parsing never fails, whatever the object holds: the spec goes through the spec model and its schedule
(problems become ``spec_error``), the status leaves out what cannot be read (written by hand or by another
version), request annotations are strings (a value too long to record in status is replaced by its
digest). Decisions, status patches and Events take this value, never the raw body; defaults come from the
spec model only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from personio_operator.api import GROUP, KIND, VERSION
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.api.status import MAX_REQUEST, MAX_STARTED_BY, PersonioIntegrationStatus
from personio_operator.controller.schedule import CronSchedule, cron_schedule
from personio_operator.controller.secrets import referenced_secret_names
from personio_operator.controller.text import one_line
from personio_operator.controller.triggers import (
    RUN_REQUEST_ANNOTATION,
    TEST_REQUEST_ANNOTATION,
    UNKNOWN_REQUESTER,
    Request,
    pending_request,
)
from personio_operator.errors import ConfigurationError

MAX_SPEC_PROBLEMS = 5
_REPAIR_PASSES = 3
_DEFAULT_HISTORY_LIMIT: int = PersonioIntegrationSpec.model_fields["history_limit"].default

# What earlier versions (kopf timers and an on-delete handler) left on every object. kopf removes the
# finalizer itself: it is still named in kopf's settings, and no handler of this version needs one.
LEGACY_FINALIZER = f"{GROUP}/finalizer"
LEGACY_ANNOTATIONS = frozenset(
    f"{GROUP}/{key}" for key in ("last-handled-configuration", "kopf-managed", "touch-dummy", "tick", "forget_deleted")
)

Key = tuple[str, str]


@dataclass(frozen=True, eq=False)
class Integration:
    namespace: str
    name: str
    uid: str | None
    resource_version: str | None
    generation: int | None
    active: bool
    spec: PersonioIntegrationSpec | None  # None: the spec cannot be used (see spec_error)
    spec_error: str | None
    schedule: CronSchedule | None  # set whenever spec is
    status: PersonioIntegrationStatus
    annotations: Mapping[str, str]  # the request annotations only
    leftovers: tuple[str, ...] = ()  # annotations earlier versions left behind
    has_legacy_finalizer: bool = False
    deleting: bool = False

    @property
    def key(self) -> Key:
        return self.namespace, self.name

    @property
    def history_limit(self) -> int:
        return self.spec.history_limit if self.spec is not None else _DEFAULT_HISTORY_LIMIT

    @property
    def paused(self) -> bool:
        return self.status.paused_generation is not None

    @property
    def run_request(self) -> Request | None:
        """The run request in the annotation, if it was not handled yet."""
        return pending_request(self.annotations, RUN_REQUEST_ANNOTATION, self.status.last_handled_run_request)

    @property
    def test_request(self) -> Request | None:
        return pending_request(self.annotations, TEST_REQUEST_ANNOTATION, self.status.last_handled_test_request)

    def secret_names(self) -> list[str]:
        """The Secrets the spec names (none while the spec cannot be used)."""
        return [] if self.spec is None else referenced_secret_names(self.spec)

    def reference(self) -> dict[str, Any]:
        """What an Event's involvedObject needs."""
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": KIND,
            "metadata": {
                "namespace": self.namespace,
                "name": self.name,
                "uid": self.uid,
                "resourceVersion": self.resource_version,
            },
        }

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Integration:
        meta = _mapping(body.get("metadata"))
        raw_spec = body.get("spec")
        spec, schedule, error = read_spec(raw_spec)
        generation = meta.get("generation")
        annotations = _mapping(meta.get("annotations"))
        finalizers = meta.get("finalizers")
        return cls(
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
            uid=_string(meta.get("uid")),
            resource_version=_string(meta.get("resourceVersion")),
            generation=generation if isinstance(generation, int) and not isinstance(generation, bool) else None,
            active=spec.active if spec else _mapping(raw_spec).get("active", True) is not False,
            spec=spec,
            spec_error=error,
            schedule=schedule,
            status=read_status(body.get("status")),
            annotations=_request_annotations(annotations),
            leftovers=tuple(sorted(key for key in annotations if key in LEGACY_ANNOTATIONS)),
            has_legacy_finalizer=isinstance(finalizers, list) and LEGACY_FINALIZER in finalizers,
            deleting=bool(meta.get("deletionTimestamp")),
        )


def requester(request: Request, *, limit: int = MAX_STARTED_BY) -> str:
    """Who asked, as status and Events can show it: one line, bounded."""
    return one_line(request.requested_by, limit) or UNKNOWN_REQUESTER


def read_spec(raw: Any) -> tuple[PersonioIntegrationSpec | None, CronSchedule | None, str | None]:
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
        return spec, cron_schedule(spec.schedule.strip(), spec.time_zone), None
    except ConfigurationError as err:
        return None, None, str(err)


def read_status(raw: Any) -> PersonioIntegrationStatus:
    """The status as last written, leaving out what cannot be read: a list item that does not fit is
    dropped, any other field that does not fit too."""
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


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _request_annotations(annotations: Mapping[str, Any]) -> dict[str, str]:
    """The request annotations; a value too long to record in status is replaced by its digest."""
    found: dict[str, str] = {}
    for key in (RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION):
        value = annotations.get(key)
        if not isinstance(value, str):
            continue
        if len(value) > MAX_REQUEST:
            digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
            value = f"sha256:{digest} by {requester(Request(value), limit=128)}"
        found[key] = value
    return found
