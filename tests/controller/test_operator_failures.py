"""Operator in the loop: failures pause the integration, tell the owners, and resume on a fix."""

from __future__ import annotations

from typing import Any

from personio_operator.controller.settings import SmtpSettings
from tests.controller.harness import eventually, fast_settings, running_operator, stays


def spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "personio": {"credentialsSecretRef": {"name": "personio-credentials"}, "baseUrl": "http://127.0.0.1:9"},
        "target": {"scim": {"url": "http://127.0.0.1:9/scim/v2", "credentialsSecretRef": {"name": "scim-token"}}},
        "notifications": {"emails": ["owner@acme.example"]},
    }
    base.update(overrides)
    return base


async def test_missing_secret_pauses_warns_and_emails(cluster, api, clock, smtp):
    sink, port = smtp
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example"))
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", spec())
        status = await eventually(
            lambda: _paused(api, "acme"), what="the integration to pause after its first run failed"
        )
        await eventually(lambda: sink.messages, what="a failure e-mail")

    assert status["phase"] == "Paused"
    assert status["pausedGeneration"] == 1
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "ConfigurationError"
    assert "personio-credentials" in conditions["Ready"]["message"]
    assert conditions["Paused"]["status"] == "True"
    assert conditions["Running"]["status"] == "False"
    [entry] = status["history"]
    assert entry["trigger"] == "Activation"
    assert entry["result"] == "Failed"
    assert "not found" in entry["error"]
    assert "nextRunTime" not in status or status["nextRunTime"] is None

    reasons = api.reasons("acme")
    assert {"RunStarted", "RunFailed", "Paused"} <= set(reasons)
    warnings = {e["reason"] for e in api.events("acme") if e["type"] == "Warning"}
    assert {"RunFailed", "Paused"} <= warnings
    assert all(e["source"]["component"] == "personio-operator" for e in api.events("acme"))

    [mail] = sink.messages
    assert mail["To"] == "owner@acme.example"
    assert "tenant-acme/acme" in mail["Subject"]
    body = mail.get_content()
    assert "personio-credentials" in body
    assert "paused" in body
    assert "personio-operator trigger run acme -n tenant-acme" in body


async def test_paused_integration_runs_no_more_scheduled_slots(cluster, api, clock):
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", spec())
        await eventually(lambda: _paused(api, "acme"), what="pause")
        clock.advance(__import__("datetime").timedelta(days=3))  # three 04:00 slots pass
        await stays(lambda: _history_len(api, "acme", 1), seconds=1.0, what="no new runs while paused")


async def _paused(api, name: str) -> dict[str, Any] | None:
    status = await api.status(name)
    return status if status.get("pausedGeneration") is not None and status.get("history") else None


async def _history_len(api, name: str, expected: int) -> bool:
    return len((await api.status(name)).get("history", [])) == expected
