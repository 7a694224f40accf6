"""Faults around the run, with the operator in the loop (KMock as the Kubernetes API, real servers).

Promises pinned here (both count in the fault suite's summary):
- the SMTP server down when a run fails: the failure is still recorded (history, phase Paused, a
  RunFailed Event), the e-mail that could not be sent is reported as a NotificationFailed Event,
  the operator tries the SMTP server once per failure (no retry storm) and keeps working: the next
  run, once Personio is back, succeeds;
- the operator stopped in the middle of a run (its writes in flight) and started again: the cut run
  is recorded Interrupted, the next run finishes the work without a duplicate or a wrong
  deactivation, and the run after it writes nothing. The writes of both runs together stay within
  the fault-free run's writes plus one repeat per write that was in flight.
Everything the operator sent to KMock, the e-mails and the logs go through the leak check.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from personio_operator.controller.settings import SmtpSettings
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION
from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from tests.apps.expected import Expected
from tests.apps.reading import AppReader, Holdings
from tests.controller.harness import Api, eventually, fast_settings, integration_spec, put_credentials, running_operator
from tests.faults.engine import ATTEMPT_CAP, baseline
from tests.faults.ledger import LEDGER, FaultRecord, Requests, suite_seed
from tests.faults.world import SMALL
from tests.plugins.leaks import (
    PERSONIO_CLIENT_ID,
    PERSONIO_CLIENT_SECRET,
    SCIM_TOKEN,
    SMTP_PASSWORD,
    SMTP_USERNAME,
    LeakCheck,
)

SCIM_CONCURRENCY = 4  # spec.target.scim.maxConcurrency's default: writes that may be in flight at once


class DownSmtp:
    """An SMTP port that takes connections and drops them at once (a crashed mail relay), counting them."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> DownSmtp:
        self._server = await asyncio.start_server(self._drop, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _drop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


@pytest.fixture
async def personio() -> AsyncIterator[SandboxServer]:
    config = SandboxConfig(
        rate_limits=False, client_id=PERSONIO_CLIENT_ID, client_secret=SecretStr(PERSONIO_CLIENT_SECRET)
    )
    async with SandboxServer(generate_company(employees=SMALL.employees, seed=suite_seed()), config) as server:
        yield server


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token=SCIM_TOKEN)


async def credentials(api: Api) -> None:
    await put_credentials(
        api, client_id=PERSONIO_CLIENT_ID, client_secret=PERSONIO_CLIENT_SECRET, scim_token=SCIM_TOKEN
    )


def spec(personio: SandboxServer, app: Any) -> dict[str, Any]:
    return integration_spec(personio.base_url, app.url, **SMALL.rules.spec())


async def status_when(api: Api, predicate) -> dict[str, Any] | None:
    status = await api.status("acme")
    return status if predicate(status) else None


def finished_runs(count: int):
    return lambda s: len(s.get("history", [])) >= count and s.get("currentRun") is None


def app_problems(app: Any, personio: SandboxServer) -> tuple[Holdings, list[str]]:
    reader = AppReader(app.url, app.token)
    try:
        held = Holdings.read(reader)
        return held, Expected.of(personio.company, SMALL.rules).check(held, reader.dialect(), SMALL.rules)
    finally:
        reader.close()


async def test_smtp_server_down_when_a_run_fails(cluster, api, clock, personio, app, leak_check: LeakCheck):
    record = LEDGER.add(FaultRecord("SMTP server down when a run fails", expected="Failed, then Succeeded"))
    smtp = SmtpSettings(
        host="127.0.0.1", starttls=False, username=SMTP_USERNAME, password=SecretStr(SMTP_PASSWORD), timeout_seconds=2
    )
    await credentials(api)
    personio.faults.add("/v2/persons", path_suffix="/v2/persons", status=503, times=None)
    async with DownSmtp() as down:
        settings = fast_settings(smtp=smtp.model_copy(update={"port": down.port}), run_budget_seconds=1.0)
        async with running_operator(cluster, settings, clock):
            await api.create_integration("acme", spec(personio, app))
            failed = await eventually(lambda: status_when(api, finished_runs(1)), within=20, what="the failed run")
            await eventually(lambda: "NotificationFailed" in api.reasons("acme"), what="the NotificationFailed Event")
            personio_calls, smtp_connections, writes = personio.stats.total_calls, down.connections, app.writes()

            personio.faults.clear()  # Personio is back; the owner asks for a run
            await api.annotate("acme", RUN_REQUEST_ANNOTATION, "2026-11-25T11:00:00Z by owner@acme.example")
            done = await eventually(lambda: status_when(api, finished_runs(2)), within=20, what="the next run")
    leak_check.feed_kmock(cluster)

    first, second = failed["history"][0], done["history"][0]
    record.outcome = f"{first['result']}, then {second['result']}"
    record.status = f"phase {failed.get('phase')}, then {done.get('phase')}; events {sorted(set(api.reasons('acme')))}"
    record.requests = {
        "smtp connections": Requests(smtp_connections, 1),
        "personio": Requests(personio_calls, 1 + ATTEMPT_CAP),  # one token, the list tried at most the cap
        "app writes": Requests(writes, 0),
    }
    if (first["result"], failed.get("phase"), second["result"]) != ("Failed", "Paused", "Succeeded"):
        record.problems.append(f"expected a failed, paused run and then a successful one: {record.outcome}")
    held, lost = app_problems(app, personio)
    record.lost, record.duplicates = len(lost), len(held.duplicates())
    record.problems += lost[:5] + held.duplicates()[:5]
    record.leaks = len(leak_check.findings())
    assert record.survived, record.line()


async def test_operator_stopped_mid_run_and_started_again(cluster, api, clock, personio, app, leak_check: LeakCheck):
    record = LEDGER.add(FaultRecord("operator stopped mid-run and started again", expected="Interrupted, then done"))
    base = await baseline(SMALL, "first", suite_seed())
    await credentials(api)
    app.faults.add(method="POST", path="/Users", delay_seconds=0.3, times=None)  # writes take a while
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", spec(personio, app))
        await eventually(lambda: len(app.users()) >= 3, within=20, what="the first run writing")
    await eventually(lambda: app.serving == 0, what="the app done with the writes left in flight")
    interrupted = await api.status("acme")
    held_at_stop = {u["id"]: u.get("active") for u in app.users()}

    app.faults.clear()
    async with running_operator(cluster, fast_settings(), clock):
        recorded = await eventually(lambda: status_when(api, finished_runs(1)), within=20, what="the cut run recorded")
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "2026-11-25T11:00:00Z by owner@acme.example")
        finished = await eventually(lambda: status_when(api, finished_runs(2)), within=20, what="the finishing run")
        writes = app.writes()
        app.reset_requests()
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "2026-11-25T11:05:00Z by owner@acme.example")
        await eventually(lambda: status_when(api, finished_runs(3)), within=20, what="the run after it")
    leak_check.feed_kmock(cluster)

    results = [entry["result"] for entry in reversed(finished["history"][:2])]
    record.outcome = " then ".join(results)
    record.status = f"phase at stop {interrupted.get('phase')}, after restart {recorded.get('phase')}"
    record.requests = {"app writes": Requests(writes, base.app_writes + SCIM_CONCURRENCY)}
    if results != ["Interrupted", "Succeeded"]:
        record.problems.append(f"expected the cut run Interrupted and the next one Succeeded, got {results}")
    if app.writes():
        record.problems.append(f"the run after the finishing run wrote {app.writes()}")
    held, lost = app_problems(app, personio)
    record.lost, record.duplicates = len(lost), len(held.duplicates())
    record.problems += lost[:5] + held.duplicates()[:5]
    record.wrong_deactivations = sum(
        1 for user in held.users if held_at_stop.get(user["id"]) is True and user.get("active") is not True
    )
    record.leaks = len(leak_check.findings())
    assert record.survived, record.line()
