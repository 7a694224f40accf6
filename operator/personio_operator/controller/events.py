"""Kubernetes Events on the integration (the "what just happened" feed of ``kubectl describe``).

The controller posts them itself (``KubeApi.post_event``), from its scheduler and its runs alike, and
at shutdown too: kopf's own poster serves only its handlers. An Event that cannot be posted is logged
and never stops the work it reports on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from personio_operator.api.status import MAX_MESSAGE, WarningSummary
from personio_operator.controller.integration import Integration
from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.controller.text import one_line
from personio_operator.redaction import redact
from personio_operator.sync.rejections import fitted_listing, object_label
from personio_operator.sync.report import RunReport

REPORTING_COMPONENT = "personio-operator"


class Reason(StrEnum):
    RUN_STARTED = "RunStarted"
    RUN_SUCCEEDED = "RunSucceeded"
    RUN_FAILED = "RunFailed"
    RUN_INTERRUPTED = "RunInterrupted"
    PAUSED = "Paused"
    RESUMED = "Resumed"
    TEST_SUCCEEDED = "TestSucceeded"
    TEST_FAILED = "TestFailed"
    DEACTIVATED = "Deactivated"
    RUN_REQUEST_IGNORED = "RunRequestIgnored"
    NOTIFICATION_FAILED = "NotificationFailed"
    RUN_WARNINGS = "RunWarnings"
    TEST_WARNINGS = "TestWarnings"
    INVALID_SPEC = "InvalidSpec"
    SPEC_ACCEPTED = "SpecAccepted"
    RECONCILE_FAILED = "ReconcileFailed"
    OBJECTS_REJECTED = "ObjectsRejected"


_WARNINGS = {
    Reason.RUN_FAILED,
    Reason.RUN_INTERRUPTED,
    Reason.PAUSED,
    Reason.TEST_FAILED,
    Reason.RUN_REQUEST_IGNORED,
    Reason.NOTIFICATION_FAILED,
    Reason.RUN_WARNINGS,
    Reason.TEST_WARNINGS,
    Reason.INVALID_SPEC,
    Reason.RECONCILE_FAILED,
    Reason.OBJECTS_REJECTED,
}


log = logging.getLogger(__name__)


class EventPoster:
    def __init__(self, kube: KubeApi, now: Callable[[], datetime]) -> None:
        self.kube = kube
        self.now = now

    async def post(self, item: Integration, reason: Reason, message: str) -> None:
        """Post an Event on ``item``, Warning or Normal by reason. The message is redacted before it is cut
        to one bounded line, so no cut can leave part of a secret behind."""
        try:
            await self.kube.post_event(
                item.reference(),
                type_="Warning" if reason in _WARNINGS else "Normal",
                reason=reason.value,
                message=one_line(redact(message)),
                component=REPORTING_COMPONENT,
                now=self.now(),
            )
        except KubeError as err:
            log.warning("Event %s on %s/%s not posted: %s", reason.value, item.namespace, item.name, err)


def describe_changes(report: RunReport) -> str:
    """What a run changed (or a test would change), for people: 'users: 3 created, 1 deactivated;
    teams: 2 created', or 'no changes'. Unchanged objects are not news."""
    parts = []
    for kind, counts in (("users", report.users), ("teams", report.teams)):
        done = [f"{number} {action}" for action, number in counts.model_dump(exclude={"unchanged"}).items() if number]
        if done:
            parts.append(f"{kind}: {', '.join(done)}")
    return "; ".join(parts) or "no changes"


def describe_warnings(summary: WarningSummary) -> str:
    """'4 warnings: 3 HeldPerson, 1 SupervisorCycle; first: Person 1002 …; Person 1003 …'."""
    noun = "warning" if summary.total == 1 else "warnings"
    kinds = ", ".join(f"{item.count} {item.kind}" for item in summary.by_kind)
    first = "; ".join(summary.first)
    return f"{summary.total} {noun}" + (f": {kinds}" if kinds else "") + (f"; first: {first}" if first else "")


_REJECTION_NAME_LENGTH = 60


def describe_rejections(what: str, report: RunReport) -> str:
    """'Run abc: the app rejected 3 objects (a run tolerates 5); the next run tries them again: User create
    anna@acme.example (HTTP 400); ...', as many as fit in one Event (at most 20), then 'and N more'."""
    noun = "object" if report.rejected == 1 else "objects"
    tolerated = f" (a run tolerates {report.rejection_limit})" if report.rejection_limit is not None else ""
    head = f"{what}: the app rejected {report.rejected} {noun}{tolerated}; the next run tries them again: "
    labels = [
        object_label(obj, _REJECTION_NAME_LENGTH) + (f" (HTTP {obj.http_status})" if obj.http_status else "")
        for obj in report.rejected_objects
    ]
    tail = ". Reasons: status.lastRunRejections"
    return head + fitted_listing(labels, MAX_MESSAGE - len(head) - len(tail)) + tail
