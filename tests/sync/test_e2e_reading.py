"""The app is read while Personio's list comes in, and only once Personio has accepted the credentials.

Promises pinned here:
- a run reads the app's dialect and state while Personio is still answering (the run is as long as the
  slower side, not both one after the other);
- a run whose Personio credentials are refused sends the app nothing at all;
- a run whose Personio read fails after the app was read fails with Personio's error and writes nothing;
- an app state read long before Personio finished is read again before the plan is made.
"""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.errors import ErrorKind
from personio_operator.sync import runner
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID
from tests.sync.harness import Harness

PERSONIO_DELAY = 1.5  # seconds the sandbox holds Personio's answer to one employments call


def slow_personio(harness: Harness) -> None:
    harness.sandbox.faults.add(
        "/v2/persons/", path_suffix="/employments", delay_seconds=PERSONIO_DELAY, times=1, method="GET"
    )


def app_reads(harness: Harness, path: str) -> int:
    return sum(1 for request in harness.app.requests if request.method == "GET" and request.path == path)


async def test_the_app_is_read_while_personio_is_still_answering(harness: Harness) -> None:
    slow_personio(harness)
    started = time.monotonic()
    report = await harness.run(dry_run=True)
    assert report.succeeded, report.error
    first, last = harness.app.requests[0], harness.app.requests[-1]
    assert first.path == "/ServiceProviderConfig"
    assert last.at < started + PERSONIO_DELAY, "the app was read before Personio's held answer could arrive"
    assert app_reads(harness, "/Users") == 1, "read once: the state was fresh when Personio finished"


async def test_refused_personio_credentials_send_the_app_nothing(harness: Harness) -> None:
    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr("not-the-secret"),
        scim_token=SecretStr(harness.app.token),
    )
    report = await run_integration(
        harness.spec(),
        secrets,
        trigger=Trigger.MANUAL,
        started_by="tester@acme.example",
        destinations=harness.destinations,
    )
    assert report.error_kind is ErrorKind.CONFIGURATION and "Personio" in (report.error or "")
    assert harness.app.requests == []


async def test_personio_failing_after_the_app_was_read_fails_the_run_with_personios_error(harness: Harness) -> None:
    harness.sandbox.faults.add("/v2/persons/", path_suffix="/employments", status=403, times=None, method="GET")
    report = await harness.run()
    assert not report.succeeded and "Personio" in (report.error or "")
    assert harness.app.writes() == 0


async def test_an_app_state_older_than_personios_answer_is_read_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "APP_STATE_FRESH_SECONDS", PERSONIO_DELAY / 3)
    slow_personio(harness)
    report = await harness.run(dry_run=True)
    assert report.succeeded, report.error
    assert app_reads(harness, "/Users") == 2 and app_reads(harness, "/Groups") == 2
