"""Operator in the loop: what changes while a run waits for a slot or is in flight is not lost."""

from __future__ import annotations

import pytest

from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID
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

PERSONIO_SECRET_VALUE = "personio-client-secret-races"
SCIM_TOKEN_VALUE = "scim-token-races"


@pytest.fixture
async def personio():
    async with personio_company(client_secret=PERSONIO_SECRET_VALUE, employees=5, seed=2) as server:
        yield server


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token=SCIM_TOKEN_VALUE)


async def test_integration_switched_off_while_waiting_for_a_slot_does_not_run(cluster, api, clock, personio, app):
    await put_credentials(api, client_secret=PERSONIO_SECRET_VALUE, scim_token=SCIM_TOKEN_VALUE)
    personio.faults.add("/v2/persons", delay_seconds=2.0, times=1)  # the first run holds the only slot a while
    async with running_operator(cluster, fast_settings(max_concurrent_runs=1), clock) as reconciler:
        await api.create_integration("one", integration_spec(personio.base_url, app.url))
        await eventually(lambda: _running(api, "one"), what="the first run in flight")
        await api.create_integration("two", integration_spec(personio.base_url, app.url))
        await eventually(
            lambda: reconciler.metrics.registry.get_sample_value("personio_operator_runs_waiting") == 1,
            what="the second integration waiting for a run slot",
        )
        await api.patch_spec("two", {"active": False})  # switched off while it waits

        await eventually(lambda: _phase(api, "two", "Inactive"), what="the second integration marked Inactive")
        assert await _running(api, "one"), "marked Inactive at once, not after the run holding the slot"
        await eventually(lambda: _finished(api, "one"), what="the first run to finish")
        await stays(lambda: _no_history(api, "two"), seconds=0.6, what="no run of the switched-off integration")
    assert (await api.status("one"))["history"][0]["result"] == "Succeeded"
    assert reconciler.metrics.registry.get_sample_value("personio_operator_runs_waiting") == 0


async def test_secret_fixed_while_the_failing_run_is_in_flight_resumes_the_pause(cluster, api, clock, personio, app):
    await put_credentials(api, client_secret="wrong-secret", scim_token=SCIM_TOKEN_VALUE)
    personio.faults.add("/v2/auth/token", delay_seconds=1.0, times=1)  # the run has read the Secret by now
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(lambda: personio.stats["POST /v2/auth/token"] == 1, what="the run's Personio login")
        await put_credentials(  # fixed while the run that read the old value is still in flight
            api, client_id=DEFAULT_CLIENT_ID, client_secret=PERSONIO_SECRET_VALUE, scim_token=SCIM_TOKEN_VALUE
        )
        await eventually(lambda: "Paused" in api.reasons("acme"), what="the failed run to pause")
        status = await eventually(
            lambda: _resumed(api, "acme"), what="resume: the Secret changed after the failed run read it"
        )
    assert status["history"][0]["result"] == "Failed"
    assert "personio-credentials" in next(c["message"] for c in status["conditions"] if c["type"] == "Paused")


async def _running(api: Api, name: str) -> bool:
    return bool((await api.status(name)).get("currentRun"))


async def _finished(api: Api, name: str) -> bool:
    status = await api.status(name)
    return bool(status.get("history")) and not status.get("currentRun")


async def _phase(api: Api, name: str, phase: str) -> bool:
    return (await api.status(name)).get("phase") == phase


async def _no_history(api: Api, name: str) -> bool:
    return not (await api.status(name)).get("history")


async def _resumed(api: Api, name: str) -> dict | None:
    status = await api.status(name)
    resumed = status.get("history") and status.get("pausedGeneration") is None and status.get("phase") != "Running"
    return status if resumed else None
