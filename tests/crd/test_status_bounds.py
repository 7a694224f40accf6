"""Every list in the status has a bound the API server enforces (maxItems), and what the operator writes
fits it: a list longer than its bound is cut (first items kept), never sent for the API server to refuse.

The status patches are checked against the committed CRD's status schema as the API server would
(tests/crd/apiserver.py), after being applied to a status that already holds as much as it may.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from personio_operator.api.run import RunResult, Trigger
from personio_operator.api.run import TestResult as Findings
from personio_operator.api.spec import MAX_HISTORY_LIMIT
from personio_operator.api.status import (
    MAX_CONDITIONS,
    MAX_MISSING_ATTRIBUTES,
    MAX_SECRET_VERSIONS,
)
from personio_operator.controller import status as status_patches
from personio_operator.sync.report import RunReport
from tests.controller.objects import integration
from tests.crd.apiserver import schema_errors

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _arrays(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if node.get("type") == "array":
        yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from _arrays(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _arrays(node["items"], f"{path}[]")


def test_every_list_in_the_status_has_a_bound(resource_schema):
    status = resource_schema["properties"]["status"]
    unbounded = [path for path, node in _arrays(status, "status") if "maxItems" not in node]
    assert unbounded == []
    bounds = {path: node["maxItems"] for path, node in _arrays(status, "status")}
    assert bounds["status.history"] == MAX_HISTORY_LIMIT
    assert bounds["status.history"] == resource_schema["properties"]["spec"]["properties"]["historyLimit"]["maximum"]
    assert bounds["status.conditions"] == MAX_CONDITIONS
    assert bounds["status.pausedSecretVersions"] == MAX_SECRET_VERSIONS
    assert bounds["status.lastTest.missingAttributes"] == MAX_MISSING_ATTRIBUTES


def _entry(n: int) -> dict[str, Any]:
    return {
        "id": f"run{n:04d}",
        "trigger": "Scheduled",
        "startedBy": "schedule",
        "startTime": "2026-11-01T04:00:00Z",
        "result": "Succeeded",
    }


def _full_status() -> dict[str, Any]:
    """A status holding as much as it may, plus condition types written by someone else."""
    foreign = [
        {
            "type": f"Other{n}",
            "status": "True",
            "reason": "Elsewhere",
            "message": "",
            "lastTransitionTime": "2026-11-01T00:00:00Z",
        }
        for n in range(MAX_CONDITIONS)
    ]
    return {
        "lastScheduledSlot": "2026-11-25T04:00:00Z",
        "phase": "Active",
        "conditions": foreign,
        "history": [_entry(n) for n in range(MAX_HISTORY_LIMIT)],
    }


def _applied(status: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = {**status, **patch}
    return {key: value for key, value in merged.items() if value is not None}


def _failed_report() -> RunReport:
    return RunReport(
        id="newest",
        trigger=Trigger.SCHEDULED,
        started_by="schedule",
        started_at=NOW,
        completed_at=NOW + timedelta(seconds=5),
        result=RunResult.FAILED,
        error="boom",
    )


def test_a_finished_run_on_a_full_status_writes_what_the_api_server_accepts(resource_schema):
    item = integration(_full_status(), historyLimit=MAX_HISTORY_LIMIT)
    three_secrets = {"personio-credentials": "7", "scim-token": "8", "a-third": "9"}
    outcome = status_patches.Outcome(paused=True, pause_generation=1, pause_secret_versions=three_secrets)
    patch = status_patches.run_finished(
        item, _failed_report(), Trigger.SCHEDULED, outcome, now=NOW, how_to_resume="fix it"
    )
    status = _applied(_full_status(), patch)
    assert schema_errors(resource_schema["properties"]["status"], status) == []
    assert len(status["history"]) == MAX_HISTORY_LIMIT
    assert [entry["id"] for entry in status["history"][:2]] == ["newest", "run0000"]  # the oldest is cut
    assert len(status["conditions"]) == MAX_CONDITIONS
    assert {"Ready", "Paused", "Running"} <= {condition["type"] for condition in status["conditions"]}
    assert len(status["pausedSecretVersions"]) == MAX_SECRET_VERSIONS


def test_a_test_missing_many_attributes_writes_what_the_api_server_accepts(resource_schema):
    missing = [f"dynamic_{n}" for n in range(3 * MAX_MISSING_ATTRIBUTES)]
    report = RunReport(
        id="t1",
        trigger=Trigger.TEST,
        started_by="alice",
        dry_run=True,
        started_at=NOW,
        completed_at=NOW,
        test=Findings(personio_reachable=True, missing_attributes=missing),
    )
    item = integration(_full_status())
    status = _applied(_full_status(), status_patches.dry_run_finished(item, report, "r by alice"))
    assert schema_errors(resource_schema["properties"]["status"], status) == []
    assert status["lastTest"]["missingAttributes"] == missing[:MAX_MISSING_ATTRIBUTES]


def test_a_status_longer_than_its_bounds_is_read_cut_not_lost():
    status = _full_status()
    status["history"] = [_entry(n) for n in range(2 * MAX_HISTORY_LIMIT)]
    status["conditions"] = status["conditions"] * 2
    item = integration(status)
    assert [entry.id for entry in item.status.history] == [f"run{n:04d}" for n in range(MAX_HISTORY_LIMIT)]
    assert len(item.status.conditions) == MAX_CONDITIONS
