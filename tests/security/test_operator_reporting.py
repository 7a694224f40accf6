"""Operator reporting: the operator never fails silently.

Promises pinned here (operator in the loop: KMock as the Kubernetes API, the Personio sandbox and
scim2-server over HTTP; assertions on what the API received, never on wall time):

- Whatever an integration object holds (a spec the models reject, an unknown time zone, a schedule
  that never fires, garbage in status, odd annotation values), a tick never ends in a traceback:
  kopf logs no handler failure.
- A spec the operator cannot use is reported in status (Ready=False, reason InvalidSpec, a message
  that says what to fix; phase Invalid) with one Warning Event per generation; no run is attempted
  (a run request is answered as ignored), and the integration recovers as soon as the spec is fixed.
- Per-person warnings reach cluster users: a count in each history entry, a bounded summary of the
  last run's (and the last Test's) warnings by kind with the first few, and one Warning Event per
  run or Test that had any.
- What the operator writes is bounded and one line, whatever a tenant or the HR data puts in: a
  huge run-request annotation is handled once and recorded by its digest.
- A status write the API server refuses leaves a trail: the run's Events still tell what it did,
  and one ReconcileFailed Warning Event says why the status is behind.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

import kmock
import pytest

from personio_operator.api.status import MAX_REQUEST, MAX_STARTED_BY, MAX_WARNING_EXAMPLES, MAX_WARNING_LINE
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.controller.harness import (
    NAMESPACE,
    Api,
    eventually,
    fast_settings,
    integration_spec,
    put_credentials,
    running_operator,
    stays,
)
from tests.plugins.scim_server import SCIM_TOKEN

NAME = "acme"


def unusable_spec(**overrides: Any) -> dict[str, Any]:
    """Valid, but points at nothing: a run attempted with it fails (and says so with RunStarted)."""
    base: dict[str, Any] = {
        "personio": {"credentialsSecretRef": {"name": "personio-credentials"}, "baseUrl": "http://127.0.0.1:9"},
        "target": {"scim": {"url": "http://127.0.0.1:9/scim/v2", "credentialsSecretRef": {"name": "scim-token"}}},
    }
    base.update(overrides)
    return base


@pytest.fixture
def handler_failures(caplog: pytest.LogCaptureFixture):
    """What kopf logged about handlers that raised (each one a traceback in the operator's log)."""
    caplog.set_level(logging.INFO)

    def failures() -> list[str]:
        return [r.getMessage() for r in caplog.records if "failed with an exception" in r.getMessage()]

    return failures


def ready(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})


def invalid_spec_reported(api: Api, generation: int, name: str = NAME):
    async def probe() -> dict[str, Any] | None:
        status = await api.status(name)
        condition = ready(status)
        done = condition.get("reason") == "InvalidSpec" and condition.get("observedGeneration") == generation
        return status if done else None

    return probe


def warning_events(api: Api, reason: str, name: str = NAME) -> list[dict[str, Any]]:
    return [e for e in api.events(name) if e["reason"] == reason and e["type"] == "Warning"]


def status_where(api: Api, check, name: str = NAME):
    async def probe() -> dict[str, Any] | None:
        status = await api.status(name)
        return status if check(status) else None

    return probe


def runs_done(count: int):
    return lambda s: len(s.get("history") or []) == count and not s.get("currentRun")


def one_clean_line(text: str, limit: int) -> bool:
    return len(text) <= limit and not any(unicodedata.category(c) == "Cc" for c in text)


# -- a spec the operator cannot use ---------------------------------------------------------------


async def test_a_schedule_that_never_fires_is_reported_and_the_fixed_spec_runs(
    cluster, api, clock, personio, scim_server, handler_failures
):
    await put_credentials(api, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, scim_token=SCIM_TOKEN)
    spec = integration_spec(personio.base_url, scim_server.url, schedule="0 4 30 2 *")
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration(NAME, spec)
        status = await eventually(invalid_spec_reported(api, 1), what="the schedule reported as invalid")
        await eventually(lambda: warning_events(api, "InvalidSpec"), what="the Event (posted after the status)")
        await stays(lambda: len(warning_events(api, "InvalidSpec")) == 1, seconds=1.0, what="one Event")
        assert "RunStarted" not in api.reasons(NAME)

        await api.patch_spec(NAME, {"schedule": "0 4 * * *"})
        fixed = await eventually(status_where(api, runs_done(1)), what="the activation run of the fixed spec")

    assert status["phase"] == "Invalid"
    assert ready(status)["status"] == "False"
    assert "schedule" in ready(status)["message"]  # the model's or Schedule's words: both name the field
    assert not status.get("history") and not status.get("lastScheduledSlot") and not status.get("nextRunTime")
    [event] = warning_events(api, "InvalidSpec")
    assert "schedule" in event["message"]

    assert fixed["history"][0]["trigger"] == "Activation"
    assert fixed["history"][0]["result"] == "Succeeded"
    assert fixed["phase"] == "Active"
    assert (ready(fixed)["status"], ready(fixed)["reason"]) == ("True", "RunSucceeded")
    assert fixed["nextRunTime"]
    assert "SpecAccepted" in api.reasons(NAME)
    assert handler_failures() == []


INVALID_SPECS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-zone": ({"timeZone": "Mars/Olympus"}, "spec.timeZone"),
    "zone-folder": ({"timeZone": "Europe"}, "spec.timeZone"),
    "no-history": ({"historyLimit": 0}, "spec.historyLimit"),
    "bad-api-version": (
        {"personio": {"credentialsSecretRef": {"name": "p"}, "apiVersion": "v9"}},
        "spec.personio.apiVersion",
    ),
    "no-target": ({"target": None}, "spec.target"),
}


async def test_a_spec_the_models_reject_is_reported_with_what_to_fix_and_nothing_runs(
    cluster, api, clock, handler_failures
):
    async with running_operator(cluster, fast_settings(), clock):
        for name, (overrides, _) in INVALID_SPECS.items():
            await api.create_integration(name, unusable_spec(**overrides))
        reported = {name: await eventually(invalid_spec_reported(api, 1, name), what=name) for name in INVALID_SPECS}
        for name in INVALID_SPECS:
            await eventually(lambda name=name: warning_events(api, "InvalidSpec", name), what=f"{name}'s Event")
        await stays(
            lambda: all(len(warning_events(api, "InvalidSpec", name)) == 1 for name in INVALID_SPECS),
            seconds=1.0,
            what="one InvalidSpec Event each",
        )

    for name, (_, field) in INVALID_SPECS.items():
        status = reported[name]
        assert status["phase"] == "Invalid", name
        assert field in ready(status)["message"], (name, ready(status)["message"])
        assert "Errno" not in ready(status)["message"] and "site-packages" not in ready(status)["message"]
        assert "RunStarted" not in api.reasons(name), name
    assert handler_failures() == []


async def test_a_spec_problem_is_reported_once_per_generation_and_run_requests_are_answered(
    cluster, api, clock, handler_failures
):
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration(NAME, unusable_spec(schedule="0 4 31 4 *"))
        await eventually(invalid_spec_reported(api, 1), what="generation 1 reported")
        await eventually(lambda: warning_events(api, "InvalidSpec"), what="the Event (posted after the status)")
        await stays(lambda: len(warning_events(api, "InvalidSpec")) == 1, seconds=0.6, what="one Event")

        await api.patch_spec(NAME, {"schedule": "0 4 * * *", "timeZone": "Mars/Olympus"})
        status = await eventually(invalid_spec_reported(api, 2), what="generation 2 reported")
        await eventually(lambda: len(warning_events(api, "InvalidSpec")) == 2, what="generation 2's Event")
        await stays(lambda: len(warning_events(api, "InvalidSpec")) == 2, seconds=0.6, what="one Event more")

        request = "2026-11-25T10:05:00Z by alice@acme.example"
        await api.annotate(NAME, RUN_REQUEST_ANNOTATION, request)
        await eventually(status_where(api, lambda s: s.get("lastHandledRunRequest") == request), what="answered")

    assert "Mars/Olympus" in ready(status)["message"]
    [ignored] = warning_events(api, "RunRequestIgnored")
    assert "Mars/Olympus" in ignored["message"]
    assert "RunStarted" not in api.reasons(NAME)
    assert handler_failures() == []


# -- whatever the object holds --------------------------------------------------------------------


async def write_status(api: Api, status: dict[str, Any], name: str = NAME) -> None:
    url = f"/apis/hrsync.dev/v1alpha1/namespaces/{NAMESPACE}/personiointegrations/{name}/status"
    response = await api.http.patch(
        url, json={"status": status}, headers={"Content-Type": "application/merge-patch+json"}
    )
    response.raise_for_status()


async def test_garbage_in_status_is_left_out_and_the_operator_carries_on(cluster, api, clock, handler_failures):
    await api.create_integration(NAME, unusable_spec())
    await write_status(
        api,
        {
            "history": [{"id": 1}, "x", {"id": "old1", "trigger": "Nightly"}],
            "conditions": "junk",
            "lastScheduledSlot": "yesterday",
            "pausedGeneration": "one",
            "lastTest": 5,
            "phase": "Sleeping",
            "currentRun": {"id": None},
        },
    )
    async with running_operator(cluster, fast_settings(), clock):
        status = await eventually(status_where(api, runs_done(1)), what="a run despite the garbage")

    assert status["history"][0]["trigger"] == "Activation"  # nothing readable said a slot was handled
    assert isinstance(status["conditions"], list) and ready(status)["reason"] == "ConfigurationError"
    assert status["phase"] == "Paused"
    assert handler_failures() == []


async def test_a_huge_run_request_is_handled_once_and_recorded_bounded(cluster, api, clock, handler_failures):
    hostile = "2026-11-25T10:05:00Z by \x1b[31mmallory\r\nInjected: yes " + "x" * 100_000
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration(NAME, unusable_spec())
        await eventually(status_where(api, runs_done(1)), what="the activation run")
        await api.annotate(NAME, RUN_REQUEST_ANNOTATION, hostile)
        await api.annotate(NAME, TEST_REQUEST_ANNOTATION, hostile)
        status = await eventually(
            status_where(api, lambda s: runs_done(2)(s) and s.get("lastTest")), what="one manual run and one Test"
        )
        await stays(status_where(api, runs_done(2)), seconds=1.0, what="the request is not run again")

    for recorded in (status["lastHandledRunRequest"], status["lastHandledTestRequest"]):
        assert one_clean_line(recorded, MAX_REQUEST) and recorded.startswith("sha256:")
    manual = status["history"][0]
    assert manual["trigger"] == "Manual"
    assert one_clean_line(manual["startedBy"], MAX_STARTED_BY) and "mallory" in manual["startedBy"]
    assert one_clean_line(status["lastTest"]["startedBy"], MAX_STARTED_BY)
    assert all(one_clean_line(event["message"], 1000) for event in api.events(NAME))
    assert handler_failures() == []


# -- per-person warnings --------------------------------------------------------------------------


async def test_per_person_warnings_reach_status_and_one_event_per_run(
    cluster, api, clock, personio, scim_server, handler_failures
):
    company = personio.company
    people = [person.id for person in company.persons()]
    emails = {pid: company.person(pid).email for pid in people[1:3]}
    for pid in emails:
        company.change_email(pid, None)  # held: no e-mail
    company.change_name(people[3], first_name="\x1b[31m" + "Ω" * 10_000)  # cut, with an escape sequence
    await put_credentials(api, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, scim_token=SCIM_TOKEN)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration(NAME, integration_spec(personio.base_url, scim_server.url))
        first = await eventually(status_where(api, runs_done(1)), what="the activation run")

        await api.annotate(NAME, TEST_REQUEST_ANNOTATION, "2026-11-25T10:05:00Z by alice@acme.example")
        tested = await eventually(status_where(api, lambda s: s.get("lastTest")), what="the Test")

        for pid, email in emails.items():
            company.change_email(pid, email)
        company.change_name(people[3], first_name="Omega")
        await api.annotate(NAME, RUN_REQUEST_ANNOTATION, "2026-11-25T10:06:00Z by alice@acme.example")
        clean = await eventually(status_where(api, runs_done(2)), what="the run after the data was fixed")

    entry = first["history"][0]
    assert entry["result"] == "Succeeded"
    summary = first["lastRunWarnings"]
    assert entry["warnings"] == summary["total"] >= 3
    assert sum(item["count"] for item in summary["byKind"]) == summary["total"]
    assert all(set(item) == {"kind", "count"} for item in summary["byKind"])
    assert 1 <= len(summary["first"]) <= MAX_WARNING_EXAMPLES
    assert all(one_clean_line(line, MAX_WARNING_LINE) for line in summary["first"])
    assert any(str(people[1]) in line for line in summary["first"])

    assert tested["lastTest"]["warnings"]["total"] == summary["total"]
    [test_event] = warning_events(api, "TestWarnings")
    assert f"{summary['total']} warnings" in test_event["message"]

    [run_event] = warning_events(api, "RunWarnings")  # one for the run with warnings, none for the clean one
    assert run_event["message"].startswith(f"Run {entry['id']}: {summary['total']} warnings: ")
    assert str(people[1]) in run_event["message"]
    assert one_clean_line(run_event["message"], 1000)

    assert clean["history"][0]["warnings"] == 0
    assert "lastRunWarnings" not in clean
    assert handler_failures() == []


# -- a status write the API server refuses --------------------------------------------------------


def run_finished_patch(request: kmock.Request) -> bool:
    data = request.data if isinstance(request.data, dict) else {}
    status = data.get("status") or {}
    return request.method == kmock.method.PATCH and request.subresource == "status" and "lastRunResult" in status


async def test_a_refused_status_write_leaves_an_event_trail(cluster, api, clock, handler_failures):
    cluster[run_finished_patch][:1] << 422
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration(NAME, unusable_spec())
        await eventually(lambda: warning_events(api, "ReconcileFailed"), what="the ReconcileFailed Event")
        await eventually(lambda: "RunFailed" in api.reasons(NAME), what="the run's own Event")

    [event] = warning_events(api, "ReconcileFailed")
    assert "HTTP 422" in event["message"] and "CRD" in event["message"]
    assert handler_failures() == []
