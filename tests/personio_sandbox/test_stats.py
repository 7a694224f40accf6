"""Request statistics, and the sandbox used from async code (``async with``)."""

from __future__ import annotations

import asyncio

import httpx

from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from tests.personio_sandbox.helpers import token_form


def test_calls_are_counted_per_endpoint_template_and_reset(sandbox):
    token = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form()).json()["access_token"]
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        client.get("/v2/persons")
        client.get("/v2/persons/1001/employments")
        client.get("/v2/persons/1002/employments")
        client.get("/v2/nowhere")
    assert sandbox.stats.calls == {
        "POST /v2/auth/token": 1,
        "GET /v2/persons": 1,
        "GET /v2/persons/{person_id}/employments": 2,
        "GET /v2/nowhere": 1,
    }
    assert sandbox.stats["GET /v2/persons/{person_id}/employments"] == 2
    assert sandbox.stats.statuses == {200: 4, 404: 1}
    sandbox.stats.reset()
    assert sandbox.stats.calls == {}
    assert sandbox.stats.total_calls == 0


async def test_async_use_and_peak_concurrency():
    async with SandboxServer(generate_company(12, seed=2), SandboxConfig(rate_limits=False)) as sandbox:
        sandbox.faults.add("/v2/persons/", path_suffix="/employments", delay_seconds=0.3, times=None)
        async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5) as client:
            token = (await client.post("/v2/auth/token", data=token_form())).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            responses = await asyncio.gather(
                *(client.get(f"/v2/persons/{1001 + i}/employments", headers=headers) for i in range(6))
            )
        assert {r.status_code for r in responses} == {200}
        assert sandbox.stats.max_in_flight_for("GET /v2/persons/{person_id}/employments") == 6
    assert not sandbox.running
