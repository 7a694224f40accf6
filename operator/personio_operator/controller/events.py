"""Kubernetes Events on the integration (the "what just happened" feed of ``kubectl describe``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import kopf

from personio_operator.controller.status import one_line

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


_WARNINGS = {
    Reason.RUN_FAILED,
    Reason.RUN_INTERRUPTED,
    Reason.PAUSED,
    Reason.TEST_FAILED,
    Reason.RUN_REQUEST_IGNORED,
    Reason.NOTIFICATION_FAILED,
}


def post(body: Any, reason: Reason, message: str) -> None:
    """Queue an Event (kopf posts it in the background); Warning or Normal by reason."""
    poster = kopf.warn if reason in _WARNINGS else kopf.info
    poster(body, reason=reason.value, message=one_line(message))
