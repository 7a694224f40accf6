"""Injected 429 / 5xx / timeouts: retried within the attempt cap and the budget, never a duplicate, nothing lost.

A write that keeps failing fails its object (``ScimRetriesExhaustedError``); an app whose writes keep
failing trips the client's breaker, which stops the run (``ScimUnavailableError``) and sends nothing more.
"""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from personio_operator.errors import ErrorKind, TransientError
from personio_operator.retrying import RetryPolicy
from personio_operator.scim.applier import create_or_adopt
from personio_operator.scim.client import BREAKER_THRESHOLD, ScimClient
from personio_operator.scim.errors import ScimRequestError, ScimRetriesExhaustedError, ScimUnavailableError
from tests.plugins.scim_server import SCIM_TOKEN
from tests.scim.factories import desired_user, eventually

# The production cap with short waits: the tests check what is retried and when it stops, not how long it waits.
QUICK = RetryPolicy(max_attempts=5, backoff_base=0.02, backoff_max=0.2)


def _client(server, *, timeout: float = 5.0, budget: float = 20.0, retry: RetryPolicy | None = None) -> ScimClient:
    options = {"retry": retry} if retry is not None else {}
    return ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=timeout, budget_seconds=budget, **options)


async def test_429_waits_for_retry_after(scim_server, scim_client):
    scim_server.faults.add(method="POST", path="/Users", status=429, retry_after=1, times=1)

    await create_or_adopt(scim_client, desired_user(1))

    refused, accepted = [r for r in scim_server.requests if r.method == "POST"]
    assert (refused.status, accepted.status) == (429, 201)
    assert accepted.at - refused.at >= 0.95
    assert len(scim_server.users()) == 1


async def test_5xx_on_create_is_retried_without_duplicates(scim_server, scim_client):
    scim_server.faults.add(method="POST", path="/Users", status=500, times=2)

    created = await create_or_adopt(scim_client, desired_user(1))

    assert [user["id"] for user in scim_server.users()] == [created.id]
    assert [r.status for r in scim_server.requests if r.method == "POST"] == [500, 500, 201]


async def test_lost_answer_after_a_stored_create_is_found_not_posted_again(scim_server):
    # The server stores the user, then fails to answer in time: the client must look up, not re-post.
    scim_server.faults.add(method="POST", path="/Users", delay_seconds=1.5, after_processing=True, times=1)
    async with _client(scim_server, timeout=0.5) as client:
        await client.discover()
        created = await create_or_adopt(client, desired_user(1))

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
            await create_or_adopt(client, desired_user(1))

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


async def test_a_create_that_keeps_failing_fails_its_object_after_the_attempt_cap(scim_server):
    scim_server.faults.add(method="POST", path="/Groups", status=500, detail="database is locked", times=None)
    async with _client(scim_server, budget=1800, retry=QUICK) as client:
        await client.discover()
        scim_server.reset_requests()
        with pytest.raises(ScimRetriesExhaustedError) as failed:
            await client.create_group("personio:team:1", "Team One")

    error = failed.value
    assert error.kind is ErrorKind.DATA and error.status == 500
    assert "create group 'Team One'" in str(error) and "HTTP 500" in str(error) and "database is locked" in str(error)
    assert "after 5 attempts" in str(error) and "did not store it" in str(error)
    # Each POST after the first is preceded by a look-up, and so is giving up: never a duplicate.
    sent = [r.method for r in scim_server.requests]
    assert sent == ["POST", "GET"] * QUICK.max_attempts
    assert scim_server.groups() == []


async def test_a_put_that_keeps_meeting_412_is_bounded(scim_server_factory):
    server = scim_server_factory(config={"patch": {"supported": False}, "etag": {"supported": True}})
    group = server.add_group("Team", external_id="personio:team:1")
    member = server.add_user("m@acme.example", external_id="personio:1")["id"]
    server.faults.add(method="PUT", path="/Groups", status=412, times=None)
    async with _client(server, retry=QUICK) as client:
        await client.discover()
        with pytest.raises(ScimRetriesExhaustedError, match="HTTP 412"):
            await client.add_members(group["id"], [member])

    assert server.count("PUT", "/Groups") == QUICK.max_attempts
    assert server.count("GET", "/Groups") == QUICK.max_attempts  # read again before each PUT


async def test_a_retry_after_longer_than_a_request_may_wait_stops_the_run_without_waiting(scim_server):
    scim_server.faults.add(method="POST", path="/Users", status=429, retry_after=600, times=None)
    async with _client(scim_server, budget=1800) as client:
        with pytest.raises(ScimUnavailableError, match="asked to wait 600 s"):
            await create_or_adopt(client, desired_user(1))

    assert scim_server.count("POST", "/Users") == 1


async def test_writes_that_keep_failing_trip_the_breaker_and_nothing_more_is_sent(scim_server):
    scim_server.faults.add(method="POST", path="/Groups", status=503, times=None)
    async with _client(scim_server, budget=1800, retry=QUICK) as client:
        await client.discover()
        for number in range(1, BREAKER_THRESHOLD):
            with pytest.raises(ScimRetriesExhaustedError):
                await client.create_group(f"personio:team:{number}", f"Team {number}")
        with pytest.raises(ScimUnavailableError) as stopped:
            await client.create_group("personio:team:last", "Team Last")
        sent = len(scim_server.requests)
        with pytest.raises(ScimUnavailableError):
            await create_or_adopt(client, desired_user(1))
        with pytest.raises(ScimUnavailableError):
            await client.list_users()

    assert stopped.value.kind is ErrorKind.TRANSIENT
    assert f"failed {BREAKER_THRESHOLD} of the last {BREAKER_THRESHOLD} writes" in str(stopped.value)
    assert "Team Last" in str(stopped.value)  # the last failure is named
    assert len(scim_server.requests) == sent
    posted = [json.loads(r.body)["externalId"] for r in scim_server.requests if r.method == "POST"]
    assert len(posted) == BREAKER_THRESHOLD * QUICK.max_attempts


async def test_clear_refusals_and_successes_keep_the_breaker_closed(scim_server):
    # Clear refusals (400) are answers, not failures; then 9 of 20 writes fail after their retries,
    # one short of the breaker's threshold: the app works, the run goes on.
    scim_server.faults.add(method="POST", path="/Users", status=400, scim_type="invalidValue", times=None)
    async with _client(scim_server, budget=1800, retry=QUICK) as client:
        await client.discover()
        for number in range(3 * BREAKER_THRESHOLD):
            with pytest.raises(ScimRequestError) as refused:
                await create_or_adopt(client, desired_user(number))
            assert not isinstance(refused.value, ScimRetriesExhaustedError)
        member = scim_server.add_user("m@acme.example", external_id="personio:1")["id"]
        for number in range(2 * BREAKER_THRESHOLD):
            if number % 2 or number == 0:
                await client.create_group(f"personio:team:{number}", f"Team {number}", [member])
                continue
            scim_server.faults.add(method="POST", path="/Groups", status=500, times=QUICK.max_attempts)
            with pytest.raises(ScimRetriesExhaustedError):
                await client.create_group(f"personio:team:{number}", f"Team {number}")

    assert scim_server.count("POST", "/Users") == 3 * BREAKER_THRESHOLD  # a 400 is not repeated
    assert len(scim_server.groups()) == BREAKER_THRESHOLD + 1
