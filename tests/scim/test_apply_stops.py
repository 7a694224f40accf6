"""The applier against a real scim2-server when things go wrong: one object's payload cannot be
built, the app answers something we cannot read, the run is cancelled. Every object written or
attempted is in ``finished``, checked against what the server holds."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import SecretStr

from personio_operator.api.run import ObjectResult
from personio_operator.scim.applier import INTERRUPTED, apply_plan
from personio_operator.scim.client import ScimClient
from personio_operator.scim.models import DesiredState
from personio_operator.scim.planner import plan_target
from personio_testkit.scim_app import ScimTestServer
from tests.plugins.scim_server import SCIM_TOKEN, answer_nth_post_with
from tests.scim.factories import desired_user, eventually
from tests.scim.test_end_to_end import company, sync_once


def held_external_ids(server: ScimTestServer) -> set[str]:
    return {user["externalId"] for user in server.users() if user.get("externalId")}


async def test_an_object_whose_payload_cannot_be_built_fails_alone_and_is_never_sent(
    scim_server: ScimTestServer,
) -> None:
    await sync_once(scim_server, company())
    scim_server.reset_requests()
    bad = desired_user(7, user_name="a..b@acme.example", email="a..b@acme.example")  # past the planner's check
    leaver_gone = DesiredState(users=[u for u in company().users if u.external_id != "personio:4"] + [bad])

    _, results, _ = await sync_once(scim_server, leaver_gone)

    by_key = {(r.kind, r.key): r for r in results}
    failed = by_key[("User", "personio:7")]
    assert not failed.ok and "not written" in (failed.error or "") and "valid email address" in (failed.error or "")
    assert failed.rejected and failed.http_status is None  # a rejection by our own check, before any request
    assert by_key[("User", "personio:4")].ok  # the leaver is still deactivated
    assert not next(u for u in scim_server.users() if u["externalId"] == "personio:4")["active"]
    assert "personio:7" not in held_external_ids(scim_server)
    assert not any(b"a..b" in request.body for request in scim_server.requests)
    assert [r for r in results if not r.ok] == [failed]


async def test_a_crash_while_writing_lists_every_object_the_app_holds(scim_server: ScimTestServer) -> None:
    answer_nth_post_with(scim_server, 3, b"[" * 100_000 + b"]" * 100_000)  # our JSON parser gives up
    finished: list[ObjectResult] = []
    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN), timeout=5, budget_seconds=30) as client:
        await client.discover()
        state = await client.read_state()
        with pytest.raises(RecursionError):
            await apply_plan(client, plan_target(company(), state), state=state, finished=finished)

    assert {r.key for r in finished} == held_external_ids(scim_server)
    (cut_short,) = [r for r in finished if not r.ok]
    assert "RecursionError" in (cut_short.error or "") and "may or may not have applied" in (cut_short.error or "")
    assert "personio:5" not in {r.key for r in finished}  # the next wave (5 reports to 2) was never started


async def test_a_cancelled_apply_lists_the_writes_in_flight(scim_server: ScimTestServer) -> None:
    stall = scim_server.faults.add(method="POST", path="/Users", delay_seconds=5, after_processing=True)
    finished: list[ObjectResult] = []
    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN), timeout=10, budget_seconds=30) as client:
        await client.discover()
        state = await client.read_state()
        task = asyncio.create_task(apply_plan(client, plan_target(company(), state), state=state, finished=finished))
        # Users 1 and 4 go first (no manager to wait for); one of them is stored, then its answer stalls.
        await eventually(lambda: stall.fired == 1 and len(finished) == 1 and len(scim_server.users()) == 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert {r.key for r in finished} == held_external_ids(scim_server) == {"personio:1", "personio:4"}
    (in_flight,) = [r for r in finished if not r.ok]
    assert in_flight.error == INTERRUPTED


def test_the_corrupt_answer_is_valid_json_only_in_depth() -> None:
    with pytest.raises(RecursionError):
        json.loads(b"[" * 100_000 + b"]" * 100_000)
