"""Injected 429 / 5xx / timeouts: retried within the budget, never a duplicate, nothing lost."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from personio_operator.errors import ErrorKind, TransientError
from personio_operator.target.client import ScimClient
from tests.plugins.scim_server import SCIM_TOKEN
from tests.target.factories import desired_user, eventually


def _client(server, *, timeout: float = 5.0, budget: float = 20.0) -> ScimClient:
    return ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=timeout, budget_seconds=budget)


async def test_429_waits_for_retry_after(scim_server, scim_client):
    scim_server.faults.add(method="POST", path="/Users", status=429, retry_after=1, times=1)

    await scim_client.create_user(desired_user(1))

    refused, accepted = [r for r in scim_server.requests if r.method == "POST"]
    assert (refused.status, accepted.status) == (429, 201)
    assert accepted.at - refused.at >= 0.95
    assert len(scim_server.users()) == 1


async def test_5xx_on_create_is_retried_without_duplicates(scim_server, scim_client):
    scim_server.faults.add(method="POST", path="/Users", status=500, times=2)

    created = await scim_client.create_user(desired_user(1))

    assert [user["id"] for user in scim_server.users()] == [created.id]
    assert [r.status for r in scim_server.requests if r.method == "POST"] == [500, 500, 201]


async def test_lost_answer_after_a_stored_create_is_found_not_posted_again(scim_server):
    # The server stores the user, then fails to answer in time: the client must look up, not re-post.
    scim_server.faults.add(method="POST", path="/Users", delay_seconds=1.5, after_processing=True, times=1)
    async with _client(scim_server, timeout=0.5) as client:
        await client.discover()
        created = await client.create_user(desired_user(1))

    assert [user["id"] for user in scim_server.users()] == [created.id]
    assert created.external_id == "personio:1"
    await eventually(lambda: any(r.faulted for r in scim_server.requests), message="the stalled POST was answered")
    assert [r.status for r in scim_server.requests if r.method == "POST"] == [201]  # no second POST


async def test_500_after_a_stored_group_create_is_not_posted_again(scim_server, scim_client):
    member = scim_server.add_user("m@acme.example", external_id="personio:1")["id"]
    scim_server.faults.add(method="POST", path="/Groups", status=502, after_processing=True, times=1)

    group = await scim_client.create_group("personio:team:1", "Team", [member])

    assert [g["id"] for g in scim_server.groups()] == [group.id]
    assert scim_server.count("POST", "/Groups") == 1


async def test_timeouts_on_patch_and_list_are_retried(scim_server):
    scim_server.add_user("a@acme.example", external_id="personio:1")
    scim_server.faults.add(method="GET", path="/Users", delay_seconds=1.0, times=1)
    scim_server.faults.add(method="PATCH", path="/Users", delay_seconds=1.0, after_processing=True, times=1)
    async with _client(scim_server, timeout=0.4) as client:
        await client.discover()
        (user,) = await client.list_users()
        await client.set_active(user.id, False)

    (stored,) = scim_server.users()
    assert stored["active"] is False
    assert client.stats.retries == 2
    await eventually(lambda: scim_server.count("PATCH", "/Users") == 2, message="both PATCHes were answered")


async def test_budget_exhausted_is_a_transient_error(scim_server):
    scim_server.faults.add(method="GET", path="/Users", status=503, times=None)
    async with _client(scim_server, budget=1.0) as client:
        with pytest.raises(TransientError) as raised:
            await client.list_users()

    assert raised.value.kind is ErrorKind.TRANSIENT
    assert "503" in str(raised.value)


async def test_retry_after_longer_than_the_budget_gives_up_at_once(scim_server):
    scim_server.faults.add(method="POST", path="/Users", status=429, retry_after=120, times=None)
    async with _client(scim_server, budget=5.0) as client:
        with pytest.raises(TransientError):
            await client.create_user(desired_user(1))

    assert scim_server.count("POST", "/Users") == 1
    assert scim_server.users() == []


async def test_the_budget_bounds_all_retries_of_a_client_not_each_request_anew(scim_server):
    # budget_seconds is the app side's share of a run: two requests that each wait 0.6 s must not
    # both fit into a 1 s budget, or a flaky app could stretch a run far beyond its budget.
    scim_server.faults.add(method="GET", path="/ServiceProviderConfig", status=429, retry_after=0.6, times=1)
    scim_server.faults.add(method="GET", path="/Users", status=429, retry_after=0.6, times=1)
    async with _client(scim_server, budget=1.0) as client:
        await client.discover()
        with pytest.raises(TransientError, match="HTTP 429"):
            await client.list_users()
    assert [r.status for r in scim_server.requests if r.path.startswith("/Users")] == [429]
