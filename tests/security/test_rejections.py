"""An app that refuses objects can neither be hammered by the operator nor flood what it reports.

Promises pinned here:
- An app that refuses every write is sent at most the tolerated number of rejected writes (max(5,
  1 % of the run's changes)) plus those already in flight, then nothing more that run; the run fails
  with the refusals named, and the integration pauses (tests/controller/test_operator_rejections.py).
- Whatever an app answers in its refusals (control characters, header-injection attempts, megabytes
  of text, 40 objects each run for the largest history), the status stays one bounded line per value
  and a few hundred kB in all, and the failure e-mail gets no extra headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from personio_operator.api.run import ObjectResult, RunResult, Trigger
from personio_operator.api.status import (
    MAX_REJECTED_LABEL,
    MAX_REJECTION_REASON,
    PersonioIntegrationStatus,
)
from personio_operator.controller.notify import FailureNotice, compose
from personio_operator.controller.status import Outcome, run_finished
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport
from personio_testkit.scim_app import ScimTestServer
from tests.controller.objects import integration
from tests.sync.harness import Harness

NOW = datetime(2026, 11, 25, 4, tzinfo=UTC)
LONG = "x" * 5_000
REFUSAL = "the attribute department code is not allowed here"


@pytest.fixture
def harness(personio_sandbox: Callable, scim_server: ScimTestServer) -> Harness:
    return Harness(personio_sandbox(employees=30, seed=1, rate_limits=False), scim_server)


async def test_an_app_that_refuses_everything_gets_no_more_than_the_tolerated_refusals_and_those_in_flight(
    harness: Harness,
) -> None:
    harness.app.faults.add(method="POST", path="/Users", status=400, times=None, detail=REFUSAL)
    concurrency = 2

    report = await harness.run(target={"scim": {"maxConcurrency": concurrency}}, teams={"department": True})

    assert report.result is RunResult.FAILED and report.error_kind is ErrorKind.DATA
    assert report.rejection_limit == 5 and report.rejected > 5
    assert "more than a run tolerates (5" in (report.error or "")
    assert "no further change was started" in (report.error or "") and REFUSAL in (report.error or "")
    assert "Run again" in (report.error or "")
    # Once the sixth came back refused, only the creates already in flight were finished.
    posts = harness.app.count("POST", "/Users")
    assert 6 <= posts <= 5 + concurrency
    assert report.rejected == posts == len(report.objects)
    assert harness.app.count("POST", "/Groups") == 0 and not harness.users()


def rejection(number: int, *, name: str, error: str) -> ObjectResult:
    return ObjectResult(
        kind="User",
        action="create",
        key=f"personio:{number}",
        name=name,
        ok=False,
        error=error,
        rejected=True,
        http_status=400,
    )


def report(rejected: list[ObjectResult], run_id: str = "r1") -> RunReport:
    return RunReport(
        id=run_id,
        trigger=Trigger.SCHEDULED,
        started_by="schedule",
        started_at=NOW,
        completed_at=NOW,
        result=RunResult.FAILED,
        error="The app rejected too many",
        error_kind=ErrorKind.DATA,
        objects=rejected,
        rejected=len(rejected),
        rejection_limit=5,
    )


def finished(run: RunReport, status: PersonioIntegrationStatus, limit: int) -> dict:
    outcome = Outcome(paused=True, pause_generation=1)
    item = integration(status, historyLimit=limit)
    return run_finished(item, run, Trigger.SCHEDULED, outcome, now=NOW, how_to_resume="Fix it.")


def test_refusal_texts_of_a_hostile_app_stay_bounded_lines_and_the_status_small() -> None:
    hostile = [
        rejection(n, name=f"\x1b[31m{LONG}\r\nBcc: x@evil.example", error=f"refused\n\x00{LONG}") for n in range(40)
    ]
    status = PersonioIntegrationStatus()
    for number in range(100):  # the largest history a spec may ask for, every run as large as it gets
        patch = finished(report(hostile, run_id=f"r{number}"), status, limit=100)
        merged = {**status.model_dump(mode="json", by_alias=True), **patch}
        status = PersonioIntegrationStatus.model_validate({k: v for k, v in merged.items() if v is not None})
    assert len(status.history) == 100
    entry = status.history[0]
    assert len(entry.rejected_objects) == 21 and all(
        len(label) <= MAX_REJECTED_LABEL for label in entry.rejected_objects
    )
    assert status.last_run_rejections is not None
    assert all(len(obj.reason) <= MAX_REJECTION_REASON for obj in status.last_run_rejections.objects)
    text = json.dumps(status.model_dump(mode="json", by_alias=True))
    assert "\x1b" not in text and "\\r" not in text and "\\n" not in text and "\\u0000" not in text
    assert len(text.encode()) < 512 * 1024  # far below what the API server stores per object

    mail = compose(FailureNotice("tenant-acme", "acme", report(hostile), "Fix it."), sender="op@x", recipients=["o@x"])
    assert mail["Bcc"] is None and "\x1b" not in mail.get_content()
