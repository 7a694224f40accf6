"""Operator in the loop (KMock, the Personio sandbox, scim2-server with faults, aiosmtpd): a run where the
app rejects a few objects succeeds, says so in status and a Warning Event, does not pause, and the next
run writes them; a run with more rejections than tolerated fails, pauses and e-mails the owners the list."""

from __future__ import annotations

from typing import Any

import pytest

from personio_operator.controller.settings import SmtpSettings
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION
from tests.controller.harness import (
    Api,
    eventually,
    fast_settings,
    integration_spec,
    personio_company,
    put_credentials,
    running_operator,
)

PERSONIO_SECRET = "personio-client-secret-do-not-leak"
SCIM_TOKEN = "scim-token-do-not-leak"
REFUSAL = "this app does not take the attribute costCenter"


@pytest.fixture
async def personio():
    async with personio_company(client_secret=PERSONIO_SECRET, employees=20, seed=1) as server:
        yield server


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token=SCIM_TOKEN)


async def credentials(api: Api) -> None:
    await put_credentials(api, client_secret=PERSONIO_SECRET, scim_token=SCIM_TOKEN)


def runs_done(api: Api, count: int):
    async def probe() -> dict[str, Any] | None:
        status = await api.status("acme")
        done = len(status.get("history", [])) == count and status.get("currentRun") is None
        return status if done else None

    return probe


def managed_user_names(app) -> set[str]:
    return {user["userName"] for user in app.users() if user.get("externalId")}


async def test_a_few_rejections_succeed_with_a_warning_and_the_next_run_writes_them(cluster, api, clock, personio, app):
    await credentials(api)
    app.faults.add(method="POST", path="/Users", status=400, times=2, detail=REFUSAL, scim_type="invalidValue")
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        status = await eventually(runs_done(api, 1), what="the activation run")
        await eventually(lambda: "ObjectsRejected" in api.reasons("acme"), what="the ObjectsRejected Event")

        [entry] = status["history"]
        assert entry["result"] == "Succeeded" and entry["rejected"] == 2
        rejected_names = {label.removeprefix("User create ") for label in entry["rejectedObjects"]}
        assert len(rejected_names) == 2 and not rejected_names & managed_user_names(app)  # named, not in the app
        summary = status["lastRunRejections"]
        assert summary["total"] == 2 and summary["tolerated"] == 5
        assert all(REFUSAL in obj["reason"] and obj["httpStatus"] == 400 for obj in summary["objects"])
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["Ready"]["status"] == "True"
        assert conditions["Ready"]["reason"] == "RunSucceededWithRejections"
        assert "rejected 2 objects" in conditions["Ready"]["message"]
        assert status["phase"] == "Active" and status.get("pausedGeneration") is None
        (event,) = [e for e in api.events("acme") if e["reason"] == "ObjectsRejected"]
        assert event["type"] == "Warning"
        assert all(name in event["message"] for name in rejected_names) and "(HTTP 400)" in event["message"]
        assert "Paused" not in api.reasons("acme")

        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "2026-11-25T11:00:00Z by owner@acme.example")
        status = await eventually(runs_done(api, 2), what="the manual run")

    latest = status["history"][0]
    assert latest["result"] == "Succeeded" and latest["rejected"] == 0 and latest["users"]["created"] == 2
    assert rejected_names <= managed_user_names(app)  # tried again and written
    assert "lastRunRejections" not in status or status["lastRunRejections"] is None
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert ready["reason"] == "RunSucceeded"


async def test_too_many_rejections_fail_pause_and_mail_the_list(cluster, api, clock, personio, app, smtp):
    sink, port = smtp
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example"))
    await credentials(api)
    app.faults.add(method="POST", path="/Users", status=400, times=None, detail=REFUSAL)
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        status = await eventually(
            lambda: _if(api, lambda s: s.get("pausedGeneration") == 1 and s.get("history")), what="the pause"
        )
        [mail] = await eventually(lambda: sink.messages, what="the failure e-mail")
        await eventually(lambda: {"ObjectsRejected", "RunFailed", "Paused"} <= set(api.reasons("acme")), what="Events")

    [entry] = status["history"]
    assert entry["result"] == "Failed" and entry["rejected"] > 5
    assert "more than a run tolerates (5" in entry["error"]
    assert len(entry["rejectedObjects"]) == entry["rejected"]  # fewer than 20: the applier stopped sending
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert ready["status"] == "False" and ready["reason"] == "DataError"
    assert app.count("POST", "/Users") == entry["rejected"] and not app.users()
    text = mail.get_content()
    assert f"Rejected by the app ({entry['rejected']}; a run tolerates 5):" in text
    assert all(f"  - {label}: " in text for label in entry["rejectedObjects"]) and REFUSAL in text
    everything = str(mail) + str(status) + str(api.events("acme"))
    assert SCIM_TOKEN not in everything and PERSONIO_SECRET not in everything


async def _if(api: Api, predicate) -> dict[str, Any] | None:
    status = await api.status("acme")
    return status if predicate(status) else None
