"""A SCIM app chosen by a tenant cannot hold the operator hostage.

Promises pinned here, each over real HTTP against a small hostile app on 127.0.0.1:

- an app that answers one byte at a time cannot hold a run (and so a run slot other integrations
  wait for) beyond the run's time budget for the app;
- an answer larger than the cap (even a small gzip that inflates) is refused, never read into memory;
- an app object we cannot read (an ``admin@localhost`` user, a malformed attribute) that is not
  ours is left alone with a warning; one of ours that cannot be read stops the run before any
  write, because planning around it could create a duplicate.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.bounded_http import MAX_ANSWER_BYTES
from personio_operator.destinations import DestinationPolicy
from personio_operator.errors import ErrorKind, SyncError
from personio_operator.scim.client import ScimClient
from personio_operator.scim.errors import ScimUnavailableError
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.sync.harness import Harness

TOKEN = "hostile-app-token-value"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def hostile_app() -> AsyncIterator[Callable[[dict[str, Handler]], Awaitable[str]]]:
    """Starts an app on 127.0.0.1 with the given routes (GET path -> handler); other paths answer 404."""
    runners: list[web.AppRunner] = []

    async def start(routes: dict[str, Handler]) -> str:
        app = web.Application()
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def _trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/scim+json"})
    await response.prepare(request)
    for _ in range(10_000):  # one byte every 0.2 s: every read finishes long before any read timeout
        await response.write(b" ")
        await asyncio.sleep(0.2)
    return response


async def _inflating(request: web.Request) -> web.StreamResponse:
    body = gzip.compress(b"{" + b" " * (MAX_ANSWER_BYTES + 1024) + b"}", compresslevel=9)
    return web.Response(
        body=body, headers={"Content-Type": "application/scim+json", "Content-Encoding": "gzip"}, status=200
    )


def _list(resources: list[dict[str, Any]]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        page = {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": resources if int(request.query.get("startIndex", "1")) == 1 else [],
        }
        return web.Response(text=json.dumps(page), content_type="application/scim+json")

    return handler


async def test_an_app_that_answers_one_byte_at_a_time_cannot_hold_a_run(harness: Harness, hostile_app) -> None:
    url = await hostile_app({"/scim/v2/ServiceProviderConfig": _trickle})
    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
        scim_token=SecretStr(TOKEN),
    )
    spec = harness.spec(target={"scim": {"url": f"{url}/scim/v2"}})
    run = run_integration(
        spec,
        secrets,
        trigger=Trigger.MANUAL,
        started_by="tester",
        budget_seconds=3,
        destinations=DestinationPolicy.only(harness.sandbox.base_url, url),
    )
    report = await asyncio.wait_for(run, timeout=120)  # a hang fails the test instead of the suite
    assert not report.succeeded
    assert report.error_kind is ErrorKind.TRANSIENT
    assert "time budget" in report.error
    assert report.objects == []


async def test_an_answer_larger_than_the_cap_is_refused_not_read(hostile_app) -> None:
    url = await hostile_app({"/ServiceProviderConfig": _inflating})
    async with ScimClient(url, SecretStr(TOKEN), timeout=10, budget_seconds=30) as client:
        with pytest.raises(ScimUnavailableError, match="larger than 32 MiB"):
            await client.discover()
    assert client.stats.requests["GET /ServiceProviderConfig"] == 1  # refused once, not retried


async def test_an_unreadable_app_object_that_is_not_ours_is_left_alone(hostile_app) -> None:
    ours = {"schemas": [USER_SCHEMA], "id": "1", "userName": "ana@example.com", "externalId": "personio:1"}
    admin = {"schemas": [USER_SCHEMA], "id": "2", "userName": "admin", "emails": [{"value": "admin@localhost"}]}
    broken = {"schemas": [USER_SCHEMA], "id": "3", "userName": "x", "externalId": 17, "meta": {"created": "never"}}
    url = await hostile_app({"/Users": _list([ours, admin, broken]), "/Groups": _list([])})
    async with ScimClient(url, SecretStr(TOKEN), timeout=10, budget_seconds=30) as client:
        state = await client.read_state()
    assert [user.id for user in state.users] == ["1"]
    assert len(client.unreadable) == 2
    assert all("left alone" in note for note in client.unreadable)


async def test_one_of_our_app_objects_that_cannot_be_read_stops_the_run(hostile_app) -> None:
    ours = {"schemas": [USER_SCHEMA], "id": "1", "userName": "ana", "externalId": "personio:1", "emails": [7]}
    url = await hostile_app({"/Users": _list([ours]), "/Groups": _list([])})
    async with ScimClient(url, SecretStr(TOKEN), timeout=10, budget_seconds=30) as client:
        with pytest.raises(SyncError, match=r"of this integration \(personio:1\) that cannot be read"):
            await client.read_state()
