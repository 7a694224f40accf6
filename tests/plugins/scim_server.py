"""SCIM fixtures for every area: a real scim2-server on 127.0.0.1, fresh per test.

async def test_x(scim_server, scim_client): ...
def test_y(scim_server_factory): server = scim_server_factory(config={"patch": {"supported": False}})
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from personio_operator.scim.client import ScimClient
from personio_testkit.scim_app import ScimTestServer

SCIM_TOKEN = "scim-token"


@pytest.fixture
def scim_server_factory() -> Iterator[Callable[..., ScimTestServer]]:
    """Start extra servers, e.g. with a changed ServiceProviderConfig; all stop after the test."""
    started: list[ScimTestServer] = []

    def start(**options: Any) -> ScimTestServer:
        options.setdefault("token", SCIM_TOKEN)
        server = ScimTestServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def scim_server(scim_server_factory: Callable[..., ScimTestServer]) -> ScimTestServer:
    return scim_server_factory()


@pytest.fixture
async def scim_client(scim_server: ScimTestServer) -> AsyncIterator[ScimClient]:
    """A discovered client for ``scim_server`` with short timeouts and retry budget."""
    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=20.0) as client:
        await client.discover()
        yield client


def answer_nth_post_with(server: ScimTestServer, n: int, body: bytes) -> None:
    """The n-th POST /Users is stored by scim2-server, but its answer is replaced with ``body``."""
    inner = server.app
    posts = 0

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        nonlocal posts
        answer = list(inner(environ, start_response))
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/Users"):
            posts += 1
            if posts == n:
                return [body]  # the testserver middleware sets Content-Length from what it returns
        return answer

    server.app = app
