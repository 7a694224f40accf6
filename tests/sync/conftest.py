from __future__ import annotations

from collections.abc import Callable

import pytest

from personio_testkit.scim_app import ScimTestServer
from tests.sync.harness import Harness


@pytest.fixture
def harness(personio_sandbox: Callable, scim_server: ScimTestServer) -> Harness:
    """30 people (seed 1), rate limits off, and an empty SCIM app."""
    return Harness(personio_sandbox(employees=30, seed=1, rate_limits=False), scim_server)


@pytest.fixture
def make_harness(personio_sandbox: Callable, scim_server_factory: Callable) -> Callable[..., Harness]:
    def make(employees: int = 30, seed: int = 1, *, sandbox_options: dict | None = None, **spec) -> Harness:
        options = {"rate_limits": False, **(sandbox_options or {})}
        return Harness(personio_sandbox(employees=employees, seed=seed, **options), scim_server_factory(), **spec)

    return make
