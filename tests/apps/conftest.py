"""Fixtures of the every-app module: one parametrised ``app`` per SCIM server the suite knows.

``app`` is scim2-server (lenient, every core attribute, the enterprise extension) or
django-scim2-server (strict, core schemas only, few attributes, unique group names). Both answer
the suite's distinctive bearer token, so that the leak check can look for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.apps.expected import Rules
from tests.apps.harness import AppHarness, ScimApp
from tests.plugins.django_scim_server import DjangoScimServer
from tests.plugins.leaks import PERSONIO_CLIENT_ID, PERSONIO_CLIENT_SECRET, SCIM_TOKEN, LeakCheck

APPS = ("scim2-server", "django-scim2-server")


@pytest.fixture(scope="session")
def django_app_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoScimServer]:
    """django-scim2-server taking the suite's token (the shared fixture's token is a common word)."""
    server = DjangoScimServer(Path(tmp_path_factory.mktemp("django-app")), token=SCIM_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(params=APPS)
def app(request: pytest.FixtureRequest, scim_server_factory: Callable) -> ScimApp:
    if request.param == "scim2-server":
        return scim_server_factory(token=SCIM_TOKEN)
    server: DjangoScimServer = request.getfixturevalue("django_app_process")
    server.reset()
    return server


@pytest.fixture
def make_harness(
    personio_sandbox: Callable, app: ScimApp, leak_check: LeakCheck
) -> Iterator[Callable[..., AppHarness]]:
    """``make_harness(employees=16, seed=5, rules=Rules(...), **spec)``: a sandbox company and ``app``."""
    made: list[AppHarness] = []

    def make(employees: int = 16, seed: int = 5, *, rules: Rules | None = None, **spec) -> AppHarness:
        config = {
            "rate_limits": False,
            "client_id": PERSONIO_CLIENT_ID,
            "client_secret": PERSONIO_CLIENT_SECRET,
        }
        sandbox = personio_sandbox(employees=employees, seed=seed, **config)
        harness = AppHarness(sandbox, app, leak_check, rules, **spec)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
