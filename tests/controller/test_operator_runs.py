"""Operator in the loop with real parts: KMock as the Kubernetes API, the Personio sandbox, a
scim2-server app and, where e-mail matters, aiosmtpd. Time comes from a hand-set clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION
from tests.controller.conftest import free_port
from tests.controller.harness import (
    Api,
    eventually,
    fast_settings,
    integration_spec,
    personio_company,
    put_credentials,
    running_operator,
    stays,
)

PERSONIO_SECRET_VALUE = "personio-client-secret-do-not-leak"
SCIM_TOKEN_VALUE = "scim-token-do-not-leak"


@pytest.fixture
async def personio():
    async with personio_company(client_secret=PERSONIO_SECRET_VALUE, employees=20, seed=1) as server:
        yield server


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token=SCIM_TOKEN_VALUE)


async def good_credentials(api: Api) -> None:
    await put_credentials(api, client_secret=PERSONIO_SECRET_VALUE, scim_token=SCIM_TOKEN_VALUE)


async def history(api: Api, name: str = "acme") -> list[dict[str, Any]]:
    return (await api.status(name)).get("history", [])


def history_has(api: Api, count: int, name: str = "acme"):
    async def probe() -> list[dict[str, Any]] | None:
        entries = await history(api, name)
        done = len(entries) == count and (await api.status(name)).get("currentRun") is None
        return entries if done else None

    return probe


async def history_is(api: Api, count: int, name: str = "acme") -> bool:
    return len(await history(api, name)) == count


async def assert_nothing_secret(api: Api, name: str = "acme") -> None:
    text = json.dumps(await api.get(name)) + json.dumps(api.events(name))
    assert PERSONIO_SECRET_VALUE not in text
    assert SCIM_TOKEN_VALUE not in text


async def test_activation_runs_at_once_and_schedules_the_next_slot(cluster, api, clock, personio, app):
    await good_credentials(api)
    spec = integration_spec(personio.base_url, app.url, timeZone="Europe/Berlin")
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", spec)
        [entry] = await eventually(history_has(api, 1), what="the activation run")

    assert entry["trigger"] == "Activation"
    assert entry["result"] == "Succeeded", entry
    assert entry["users"]["created"] == len(app.users()) > 0
    assert entry["teams"]["created"] == len(app.groups()) > 0
    status = await api.status("acme")
    assert status["phase"] == "Active"
    assert status["lastRunResult"] == "Succeeded"
    # 04:00 in Berlin (CET, UTC+1) is 03:00 UTC; the clock stands at 2026-11-25 10:00 UTC.
    assert status["lastScheduledSlot"] == "2026-11-25T03:00:00Z"
    assert status["nextRunTime"] == "2026-11-26T03:00:00Z"
    assert status["observedGeneration"] == 1
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Paused"]["status"] == "False"
    assert conditions["Running"]["status"] == "False"
    await eventually(lambda: api.reasons("acme")[:2] == ["RunStarted", "RunSucceeded"], what="run events")
    await assert_nothing_secret(api)


async def test_schedule_runs_when_due_and_not_before(cluster, api, clock, personio, app):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(history_has(api, 1), what="the activation run")

        clock.set(datetime(2026, 11, 26, 3, 59, tzinfo=UTC))
        await stays(lambda: history_is(api, 1), seconds=1.0, what="no run before 04:00")

        clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
        entries = await eventually(history_has(api, 2), what="the 04:00 run")

    assert entries[0]["trigger"] == "Scheduled"
    assert entries[0]["startedBy"] == "schedule"
    assert entries[0]["result"] == "Succeeded"
    assert entries[0]["users"]["created"] == 0  # the activation run created everyone already
    status = await api.status("acme")
    assert status["lastScheduledSlot"] == "2026-11-26T04:00:00Z"
    assert status["nextRunTime"] == "2026-11-27T04:00:00Z"


async def test_restart_never_runs_a_slot_twice_and_downtime_runs_the_latest_slot_once(
    cluster, api, clock, personio, app
):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(history_has(api, 1), what="the activation run")

    async with running_operator(cluster, fast_settings(), clock):  # restart: the slot was handled
        await stays(lambda: history_is(api, 1), seconds=1.0, what="no second run of the same slot")

    clock.advance(timedelta(days=3))  # three 04:00 slots pass while the operator is down
    async with running_operator(cluster, fast_settings(), clock):
        entries = await eventually(history_has(api, 2), what="one catch-up run")
        await stays(lambda: history_is(api, 2), seconds=1.0, what="missed slots collapse into one run")

    assert entries[0]["trigger"] == "Scheduled"
    assert (await api.status("acme"))["lastScheduledSlot"] == "2026-11-28T04:00:00Z"


async def test_test_annotation_plans_without_writing_and_run_now_records_who_asked(cluster, api, clock, personio, app):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(history_has(api, 1), what="the activation run")
        personio.company.terminate(personio.company.persons()[-1].id)
        writes_before = app.writes()

        request = "2026-11-25T10:05:00Z by alice@acme.example"
        await api.annotate("acme", TEST_REQUEST_ANNOTATION, request)
        status = await eventually(
            lambda: _status_if(api, lambda s: s.get("lastHandledTestRequest") == request), what="the test result"
        )
        assert app.writes() == writes_before  # a Test writes nothing to the app
        test = status["lastTest"]
        assert test["result"] == "Passed", test
        assert test["startedBy"] == "alice@acme.example"
        assert test["personioReachable"] is True and test["targetReachable"] is True
        assert test["employeesFetched"] == 20
        assert test["appLimits"] == []  # scim2-server declares every attribute the sync writes
        assert len(status["history"]) == 1  # a Test is not a run

        request = "2026-11-25T10:06:00Z by bob@acme.example"
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, request)
        entries = await eventually(history_has(api, 2), what="the manual run")

    assert entries[0]["trigger"] == "Manual"
    assert entries[0]["startedBy"] == "bob@acme.example"
    assert entries[0]["result"] == "Succeeded"
    assert app.writes() > writes_before
    assert (await api.status("acme"))["lastHandledRunRequest"] == request
    await eventually(lambda: {"TestSucceeded", "RunSucceeded"} <= set(api.reasons("acme")), what="events")
    await assert_nothing_secret(api)


async def test_failure_pauses_and_a_secret_change_resumes(cluster, api, clock, personio, app, smtp):
    from personio_operator.controller.settings import SmtpSettings

    sink, port = smtp
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False))
    await put_credentials(api, client_secret="wrong-secret", scim_token=SCIM_TOKEN_VALUE)
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        status = await eventually(
            lambda: _status_if(api, lambda s: s.get("pausedGeneration") == 1 and s.get("history")), what="pause"
        )
        await eventually(lambda: sink.messages, what="the failure e-mail")
        assert app.writes() == 0
        assert status["history"][0]["result"] == "Failed"
        assert [item["name"] for item in status["pausedSecretVersions"]] == ["personio-credentials", "scim-bearer"]
        assert all(item["resourceVersion"] for item in status["pausedSecretVersions"])

        await good_credentials(api)  # someone fixes the Secret
        status = await eventually(
            lambda: _status_if(api, lambda s: s.get("pausedGeneration") is None), what="resume after the Secret change"
        )
        assert status["phase"] == "Failing" or status["phase"] == "Active"
        await eventually(lambda: "Resumed" in api.reasons("acme"), what="the Resumed event")
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["Paused"]["status"] == "False"
        assert "personio-credentials" in conditions["Paused"]["message"]

        clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
        entries = await eventually(history_has(api, 2), what="the next scheduled run")
    assert entries[0]["result"] == "Succeeded"
    mail_text = "".join(str(message) for message in sink.messages)
    assert "wrong-secret" not in mail_text and SCIM_TOKEN_VALUE not in mail_text
    await assert_nothing_secret(api)


async def test_spec_change_resumes_and_manual_success_resumes(cluster, api, clock, personio, app):
    await good_credentials(api)
    fault = app.faults.add(method="GET", path="/ServiceProviderConfig", status=401, times=None)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(lambda: _status_if(api, lambda s: s.get("pausedGeneration") == 1), what="pause")

        await api.patch_spec("acme", {"historyLimit": 5})
        await eventually(lambda: _status_if(api, lambda s: s.get("pausedGeneration") is None), what="resume")
        assert "the spec changed" in _message(await api.status("acme"), "Paused")

        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "again by carol@acme.example")  # still failing
        await eventually(lambda: _status_if(api, lambda s: s.get("pausedGeneration") == 2), what="pause again")

        app.faults.items.remove(fault)  # the app works again; no spec or Secret change
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "retry by carol@acme.example")
        entries = await eventually(history_has(api, 3), what="the manual retry")

    assert entries[0]["result"] == "Succeeded"
    status = await api.status("acme")
    assert status.get("pausedGeneration") is None
    assert status["phase"] == "Active"
    await eventually(lambda: api.reasons("acme").count("Resumed") == 2, what="two Resumed events")


async def test_inactive_integration_never_runs_until_switched_on(cluster, api, clock, personio, app):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url, active=False))
        await eventually(lambda: _status_if(api, lambda s: s.get("phase") == "Inactive"), what="Inactive")
        clock.advance(timedelta(days=2))
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "now by dave@acme.example")
        await eventually(lambda: "RunRequestIgnored" in api.reasons("acme"), what="the ignored request")
        await stays(lambda: history_is(api, 0), seconds=1.0, what="no runs while inactive")
        assert app.writes() == 0

        await api.patch_spec("acme", {"active": True})
        [entry] = await eventually(history_has(api, 1), what="the activation run")
    assert entry["trigger"] == "Activation"
    assert entry["result"] == "Succeeded"


async def test_history_is_bounded_newest_first(cluster, api, clock, personio, app):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url, historyLimit=2))
        await eventually(history_has(api, 1), what="the activation run")
        for who in ("erin", "frank"):
            clock.advance(timedelta(minutes=1))
            await api.annotate("acme", RUN_REQUEST_ANNOTATION, f"x by {who}@acme.example")
            await eventually(
                lambda who=who: _status_if(
                    api, lambda s: s["history"][0]["startedBy"] == f"{who}@acme.example" and not s.get("currentRun")
                ),
                what=f"{who}'s run",
            )
    entries = await history(api)
    assert [e["startedBy"] for e in entries] == ["frank@acme.example", "erin@acme.example"]
    assert entries[0]["startTime"] > entries[1]["startTime"]


async def test_run_in_flight_at_shutdown_is_recorded_as_interrupted(cluster, api, clock, personio, app):
    await good_credentials(api)
    personio.faults.add("/v2/persons", delay_seconds=120, times=None)  # the fetch hangs
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(lambda: _status_if(api, lambda s: s.get("currentRun")), what="a run in flight")

    personio.faults.clear()
    async with running_operator(cluster, fast_settings(), clock):
        [entry] = await eventually(history_has(api, 1), what="the interrupted run recorded")
        await stays(lambda: history_is(api, 1), seconds=0.8, what="the handled slot is not run again")
    assert entry["result"] == "Interrupted"
    assert entry["trigger"] == "Activation"
    assert (await api.status("acme"))["lastRunResult"] == "Interrupted"
    await eventually(lambda: "RunInterrupted" in api.reasons("acme"), what="the RunInterrupted event")


async def test_at_most_n_runs_at_once_and_metrics(cluster, api, clock, personio, app):
    await good_credentials(api)
    personio.faults.add("/v2/persons", delay_seconds=1.5, times=2)
    port = free_port()
    settings = fast_settings(max_concurrent_runs=1, metrics_port=port, metrics_host="127.0.0.1")
    async with running_operator(cluster, settings, clock):
        await api.create_integration("one", integration_spec(personio.base_url, app.url))
        await api.create_integration("two", integration_spec(personio.base_url, app.url))

        async def never_both_running() -> bool:
            one, two = await api.status("one"), await api.status("two")
            assert not (one.get("currentRun") and two.get("currentRun")), "two runs at once"
            return bool(one.get("history")) and bool(two.get("history"))

        await eventually(never_both_running, within=30, what="both activation runs, one after the other")
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text

    assert 'personio_operator_runs_total{result="Succeeded",trigger="Activation"} 2.0' in metrics
    assert 'personio_operator_objects_changed_total{action="created",kind="user"}' in metrics
    assert "personio_operator_paused_integrations 0.0" in metrics


async def _status_if(api: Api, predicate) -> dict[str, Any] | None:
    status = await api.status("acme")
    try:
        return status if predicate(status) else None
    except (KeyError, IndexError):
        return None


def _message(status: dict[str, Any], condition: str) -> str:
    return next(c["message"] for c in status["conditions"] if c["type"] == condition)


async def test_run_left_behind_by_a_killed_operator_is_recorded_at_start(cluster, api, clock, personio, app):
    await good_credentials(api)
    await api.create_integration("acme", integration_spec(personio.base_url, app.url))
    killed_run = {
        "id": "deadbeef0001",
        "trigger": "Scheduled",
        "startedBy": "schedule",
        "startTime": "2026-11-25T04:00:00Z",
    }
    response = await api.http.patch(
        "/apis/hrsync.dev/v1alpha1/namespaces/tenant-acme/personiointegrations/acme/status",
        json={"status": {"currentRun": killed_run, "lastScheduledSlot": "2026-11-25T04:00:00Z", "phase": "Running"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    response.raise_for_status()
    async with running_operator(cluster, fast_settings(), clock):
        [entry] = await eventually(history_has(api, 1), what="the killed run recorded")
        await stays(lambda: history_is(api, 1), seconds=0.8, what="the slot of the killed run is not run again")
    assert entry == {
        **killed_run,
        "result": "Interrupted",
        "error": entry["error"],
        "users": entry["users"],
        "teams": entry["teams"],
    }
    assert "safe to run again" in entry["error"]


async def test_transient_failure_pauses_emails_and_a_successful_manual_run_resumes(
    cluster, api, clock, personio, app, smtp
):
    from personio_operator.controller.settings import SmtpSettings

    sink, port = smtp
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False), run_budget_seconds=1.0)
    await good_credentials(api)
    personio.faults.add("/v2/persons", status=503, times=None)  # Personio is down for longer than the budget
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        status = await eventually(
            lambda: _status_if(api, lambda s: s.get("pausedGeneration") == 1 and s.get("history")), what="pause"
        )
        assert status["phase"] == "Paused"
        assert status["history"][0]["result"] == "Failed"
        assert "503" in status["history"][0]["error"]
        [mail] = await eventually(lambda: sink.messages, what="the failure e-mail")
        assert "paused" in mail.get_content()
        assert app.writes() == 0

        clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))  # the next slot passes while paused
        await stays(lambda: _history_is(api, 1), seconds=1.0, what="no scheduled run while paused")

        personio.faults.clear()  # Personio is back; the owner asks for a run
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "2026-11-26T08:00:00Z by owner@acme.example")
        entries = await eventually(history_has(api, 2), what="the manual run")
    assert entries[0]["result"] == "Succeeded"
    assert entries[0]["startedBy"] == "owner@acme.example"
    status = await api.status("acme")
    assert status.get("pausedGeneration") is None
    assert status["phase"] == "Active"


async def _history_is(api: Api, count: int) -> bool:
    return len(await history(api)) == count
