"""Operator in the loop: ``kubectl describe`` answers support's questions on its own.

An integration runs (activation, then a manual run that changes nothing), then its app token is
replaced by a wrong one and a manual run fails: it pauses. Rendered the way kubectl renders it
(tests/controller/describe.py), the object says: which Secrets (by name, not as humanised map keys)
a change of which resumes it, that no run is scheduled until it resumes (the NEXT RUN column too),
team counts with unchanged ones like users, whether the owners were e-mailed, and the Events.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from personio_operator.api.crd import printer_columns
from personio_operator.controller.clock import ManualClock
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, format_request
from tests.controller.describe import describe, smart_label
from tests.controller.harness import (
    PERSONIO_SECRET,
    SCIM_SECRET,
    Api,
    eventually,
    fast_settings,
    integration_spec,
    personio_company,
    put_credentials,
    running_operator,
)

PERSONIO_SECRET_VALUE = "personio-secret-describe"
SCIM_TOKEN_VALUE = "scim-token-describe"


@pytest.fixture
async def personio():
    async with personio_company(client_secret=PERSONIO_SECRET_VALUE, employees=12, seed=7) as server:
        yield server


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token=SCIM_TOKEN_VALUE)


def settled(api: Api, runs: int):
    async def probe() -> dict | None:
        status = await api.status("acme")
        return status if len(status.get("history") or []) == runs and not status.get("currentRun") else None

    return probe


async def paused_integration(cluster, api: Api, clock, personio, app) -> tuple[dict, list[dict]]:
    """The object and its Events after two good runs and a failed one."""
    await put_credentials(api, client_secret=PERSONIO_SECRET_VALUE, scim_token=SCIM_TOKEN_VALUE)
    spec = integration_spec(personio.base_url, app.url, teams={"department": True, "supervisor": True})
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", spec)
        await eventually(settled(api, 1), what="the activation run")
        clock.advance(timedelta(minutes=25))
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, format_request(clock.now(), "alice@acme.example"))
        await eventually(settled(api, 2), what="a run with nothing to change")
        clock.advance(timedelta(minutes=20))
        await api.put_secret(SCIM_SECRET, {"token": "a-wrong-token"})
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, format_request(clock.now(), "bob@acme.example"))
        await eventually(settled(api, 3), what="the failed run")
        await eventually(lambda: "Paused" in api.reasons("acme"), what="the Paused Event")
    clock.advance(timedelta(minutes=5))
    return await api.get("acme"), api.events("acme")


@pytest.fixture
def clock() -> ManualClock:
    """The machine's time, like the creation time KMock stamps (this rendering is the README's example)."""
    return ManualClock(datetime.now(UTC).replace(second=0, microsecond=0))


async def test_describe_of_a_paused_integration_answers_what_support_asks(cluster, api, clock, personio, app):
    obj, events = await paused_integration(cluster, api, clock, personio, app)
    status = obj["status"]
    text = describe(obj, events, now=clock.now())

    assert [item["name"] for item in status["pausedSecretVersions"]] == sorted([PERSONIO_SECRET, SCIM_SECRET])
    listed = r"Paused Secret Versions:\n" + "".join(
        rf" +Name: +{name}\n +Resource Version: +\d+\n" for name in sorted([PERSONIO_SECRET, SCIM_SECRET])
    )
    assert re.search(listed, text), text
    assert smart_label(PERSONIO_SECRET) == "Personio - Credentials"
    assert "Personio - Credentials" not in text  # no humanised map key

    next_run = next(column for column in printer_columns() if column["name"] == "Next Run")
    assert next_run["jsonPath"] == ".status.nextRun"
    assert status["nextRun"].startswith("none while paused")
    assert "nextRunTime" not in status
    paused = next(c for c in status["conditions"] if c["type"] == "Paused")
    assert "no run is scheduled until the integration resumes" in paused["message"]
    assert f"personio-operator trigger run acme -n {obj['metadata']['namespace']}" in paused["message"]

    failed, unchanged, activation = status["history"]
    assert activation["teams"]["created"] > 0 and activation["teams"]["unchanged"] == 0
    assert unchanged["teams"] == {**unchanged["teams"], "created": 0, "updated": 0, "removed": 0}
    assert unchanged["teams"]["unchanged"] == activation["teams"]["created"]
    assert unchanged["users"]["unchanged"] == activation["users"]["created"]
    assert failed["result"] == "Failed" and failed["notification"]["emailed"] is False

    assert re.search(r"\n  Next Run: +none while paused: automatic runs resume when", text), text
    assert re.search(r"\n    Notification:\n      Emailed: +false\n      Message: +not e-mailed: no SMTP", text)
    assert re.search(r"\n    Teams:\n      Created: +0\n      Removed: +0\n      Unchanged: +[1-9]", text)
    assert re.search(r"\n  Warning +RunFailed +5m +personio-operator +Run \w+ failed; owners not e-mailed", text)
    assert SCIM_TOKEN_VALUE not in text and "a-wrong-token" not in text
