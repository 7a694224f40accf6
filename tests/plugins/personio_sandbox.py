"""Pytest fixtures for the Personio sandbox (a real HTTP server on 127.0.0.1, one per test).

def test_x(sandbox):                       # 30 people, seed 1, rate limits off
    url = sandbox.base_url
def test_y(personio_sandbox):
    s = personio_sandbox(employees=250, seed=7, rate_limits=True, whitelist={"email", "first_name"})
    s = personio_sandbox(company=load_company("fixture.yaml"), clock=SandboxClock(frozen=True))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from personio_testkit.personio_sandbox import (
    Company,
    SandboxClock,
    SandboxConfig,
    SandboxServer,
    generate_company,
)

SandboxFactory = Callable[..., SandboxServer]


@pytest.fixture
def personio_sandbox() -> Iterator[SandboxFactory]:
    """Factory: ``personio_sandbox(employees=50, seed=1, *, company=None, clock=None, **SandboxConfig fields)``.

    Returns a started ``SandboxServer``; every sandbox made is stopped at teardown.
    """
    started: list[SandboxServer] = []

    def make(
        employees: int = 50,
        seed: int = 1,
        *,
        company: Company | None = None,
        clock: SandboxClock | None = None,
        **config: Any,
    ) -> SandboxServer:
        server = SandboxServer(
            company if company is not None else generate_company(employees=employees, seed=seed),
            SandboxConfig(**config),
            clock=clock,
        )
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(personio_sandbox: SandboxFactory) -> SandboxServer:
    """A small company (30 people, seed 1) with rate limits off, default credentials."""
    return personio_sandbox(employees=30, seed=1, rate_limits=False)
