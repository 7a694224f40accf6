"""How a run with rejected objects is reported, without a server: the history entry, lastRunRejections,
the Ready condition, the ObjectsRejected Event and the failure e-mail. Each names the first 20 rejected
objects and counts the rest, (tests/security/test_rejections.py: the bounds hold against a hostile app)."""

from __future__ import annotations

from datetime import UTC, datetime

from personio_operator.api.run import ObjectResult, RunResult, Trigger
from personio_operator.api.status import (
    MAX_MESSAGE,
    PersonioIntegrationStatus,
)
from personio_operator.controller.events import describe_rejections
from personio_operator.controller.notify import FailureNotice, compose
from personio_operator.controller.status import Outcome, run_finished
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport
from tests.controller.objects import integration

NOW = datetime(2026, 11, 25, 4, tzinfo=UTC)


def rejection(number: int, *, name: str | None = None, error: str | None = None) -> ObjectResult:
    return ObjectResult(
        kind="User",
        action="create",
        key=f"personio:{number}",
        name=name or f"person{number}@acme.example",
        ok=False,
        error=error or f"create user was refused by the app (HTTP 400): reason {number}",
        rejected=True,
        http_status=400,
    )


def report(rejected: list[ObjectResult], *, result: RunResult = RunResult.SUCCEEDED, run_id: str = "r1") -> RunReport:
    written = [ObjectResult(kind="User", action="update", key="personio:1", name="ok@acme.example")]
    return RunReport(
        id=run_id,
        trigger=Trigger.SCHEDULED,
        started_by="schedule",
        started_at=NOW,
        completed_at=NOW,
        result=result,
        error=None if result is RunResult.SUCCEEDED else "The app rejected too many",
        error_kind=None if result is RunResult.SUCCEEDED else ErrorKind.DATA,
        objects=[*rejected, *written],
        rejected=len(rejected),
        rejection_limit=5,
    )


def finished(run: RunReport, status: PersonioIntegrationStatus | None = None, limit: int = 10) -> dict:
    return run_finished(
        integration(status, historyLimit=limit),
        run,
        Trigger.SCHEDULED,
        Outcome(paused=not run.succeeded, pause_generation=1 if not run.succeeded else None),
        now=NOW,
        how_to_resume="Fix it.",
    )


def test_a_run_with_rejections_is_ready_not_paused_and_says_so() -> None:
    patch = finished(report([rejection(1), rejection(2)]))
    conditions = {c["type"]: c for c in patch["conditions"]}
    assert conditions["Ready"]["status"] == "True" and conditions["Ready"]["reason"] == "RunSucceededWithRejections"
    assert "the app rejected 2 objects" in conditions["Ready"]["message"]
    assert "next run tries them again" in conditions["Ready"]["message"]
    assert patch["pausedGeneration"] is None and patch["phase"] == "Active"
    [entry] = patch["history"]
    assert entry["result"] == "Succeeded" and entry["rejected"] == 2
    assert entry["rejectedObjects"] == ["User create person1@acme.example", "User create person2@acme.example"]
    summary = patch["lastRunRejections"]
    assert summary["total"] == 2 and summary["tolerated"] == 5
    assert summary["objects"][0] == {
        "kind": "User",
        "action": "create",
        "name": "person1@acme.example",
        "reason": "create user was refused by the app (HTTP 400): reason 1",
        "httpStatus": 400,
    }


def test_a_clean_run_clears_the_last_rejections_and_records_none() -> None:
    patch = finished(report([]).model_copy(update={"rejected": 0}))
    assert patch["lastRunRejections"] is None
    [entry] = patch["history"]
    assert entry["rejected"] == 0 and "rejectedObjects" not in entry
    assert {c["type"]: c for c in patch["conditions"]}["Ready"]["reason"] == "RunSucceeded"


def test_twenty_are_named_and_the_rest_counted_everywhere() -> None:
    run = report([rejection(n) for n in range(25)], result=RunResult.FAILED)
    patch = finished(run)
    [entry] = patch["history"]
    assert entry["rejected"] == 25
    assert entry["rejectedObjects"][:20] == [f"User create person{n}@acme.example" for n in range(20)]
    assert entry["rejectedObjects"][20:] == ["and 5 more"]
    assert len(patch["lastRunRejections"]["objects"]) == 20 and patch["lastRunRejections"]["total"] == 25

    mail = compose(FailureNotice("tenant-acme", "acme", run, "Fix it."), sender="op@x", recipients=["o@x"])
    text = mail.get_content()
    assert "Rejected by the app (25; a run tolerates 5):" in text
    assert all(f"  - User create person{n}@acme.example: " in text for n in range(20))
    assert "person20@" not in text and "  - and 5 more" in text

    event = describe_rejections("Run r1", run)
    assert event.startswith("Run r1: the app rejected 25 objects (a run tolerates 5); the next run tries them again:")
    assert len(event) <= MAX_MESSAGE
    listed = event.count("@acme.example")
    assert 0 < listed <= 20 and f"and {25 - listed} more" in event and "(HTTP 400)" in event
