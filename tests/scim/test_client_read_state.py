"""Reading the app's state lists users and groups at once; a failure of one listing stops the other,
so no request is sent after the client closed and the error the run reports is the real one."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from personio_operator.scim.client import ScimClient
from personio_operator.scim.errors import ScimRequestError
from tests.plugins.scim_server import SCIM_TOKEN


@pytest.mark.parametrize("failing", ["/Users", "/Groups"])
async def test_a_failed_listing_stops_the_other_and_is_the_error_raised(scim_server, failing: str) -> None:
    other = "/Groups" if failing == "/Users" else "/Users"
    scim_server.faults.add(method="GET", path=failing, status=400, times=None)
    scim_server.faults.add(method="GET", path=other, delay_seconds=1.0, times=None)
    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=5.0) as client:
        with pytest.raises(ScimRequestError, match=f"GET {failing} was refused by the app"):
            await client.read_state()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert pending == [], "a listing went on after the other failed"
