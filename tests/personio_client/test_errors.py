"""Credential and permission errors are typed and actionable; the secret never leaks; headers are sent."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import SecretStr

from personio_operator.errors import ConfigurationError, ErrorKind, SyncError
from personio_operator.personio.client import PersonioClient
from personio_operator.personio.errors import PersonioAccessError, PersonioCredentialsError, PersonioEndpointError
from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from tests.personio_client.helpers import ALL_ATTRIBUTES, FAST, client, fetch, source

SECRET = "s3cr3t-value-that-must-never-show-7f1e"
HINT = "Secret tenant-acme/personio-credentials"


def _config(**kwargs) -> SandboxConfig:
    return SandboxConfig(rate_limits=False, client_secret=SecretStr(SECRET), **kwargs)


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_wrong_secret_is_a_configuration_error_that_says_what_to_do(version, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + SECRET
    with SandboxServer(generate_company(employees=5, seed=1), _config()) as sandbox:
        personio = client(sandbox, version, secret=wrong, credentials_hint=HINT)
        with pytest.raises(PersonioCredentialsError) as caught:
            async with personio:
                await personio.fetch_employees(ALL_ATTRIBUTES)
        with pytest.raises(PersonioCredentialsError):
            async with personio:
                await personio.check_credentials()
    error = caught.value
    assert isinstance(error, ConfigurationError) and error.kind is ErrorKind.CONFIGURATION
    message = str(error)
    assert "Personio rejected the client id/secret" in message
    assert "Settings > Integrations > API credentials" in message and HINT in message
    for text in (message, repr(error), repr(personio), caplog.text):
        assert wrong not in text and SECRET not in text


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_the_secret_never_appears_in_logs_or_reprs_of_a_troubled_fetch(version, caplog):
    caplog.set_level(logging.DEBUG)
    with SandboxServer(generate_company(employees=60, seed=1), _config()) as sandbox:
        sandbox.faults.add("/v", status=500, times=2)
        sandbox.faults.add(f"/{version}/", path_suffix="s", status=502, times=1)
        personio = client(sandbox, version, secret=SECRET, credentials_hint=HINT)
        async with personio:
            result = await personio.fetch_employees(ALL_ATTRIBUTES)
            reprs = [repr(personio), repr(personio.http.auth), repr(personio.http.redact), repr(personio.http.stats)]
    assert result.complete
    assert "retrying" in caplog.text  # the faults were logged ...
    for text in (caplog.text, result.model_dump_json(), *reprs):
        assert SECRET not in text  # ... without the secret
        assert "papi-" not in text  # nor a bearer token


async def test_missing_scope_is_a_configuration_error():
    config = _config(scopes=("employees:read",))
    with (
        SandboxServer(generate_company(employees=5, seed=1), config) as sandbox,
        pytest.raises(PersonioAccessError) as caught,
    ):
        await fetch(sandbox, "v2", secret=SECRET)
    assert caught.value.kind is ErrorKind.CONFIGURATION
    assert "/v2/persons" in str(caught.value) and "API credentials" in str(caught.value)


async def test_check_credentials_passes_with_good_credentials_and_reads_one_record():
    with SandboxServer(generate_company(employees=80, seed=1), _config()) as sandbox:
        for version in ("v2", "v1"):
            async with client(sandbox, version, secret=SECRET) as personio:
                await personio.check_credentials()
        calls = sandbox.stats.calls
    assert calls["GET /v2/persons"] == 1 and calls["GET /v1/company/employees"] == 1
    assert "GET /v2/persons/{person_id}/employments" not in calls


async def test_wrong_base_url_path_says_to_check_the_base_url():
    with SandboxServer(generate_company(employees=5, seed=1), _config()) as sandbox:
        personio = PersonioClient(
            source(f"{sandbox.base_url}/nothing-here", "v2"), "sandbox-client", SecretStr(SECRET),
            policy=FAST,
        )  # fmt: skip
        with pytest.raises(SyncError) as caught:
            async with personio:
                await personio.check_credentials()
    assert isinstance(caught.value, PersonioEndpointError | PersonioCredentialsError)
    assert caught.value.kind is ErrorKind.CONFIGURATION


async def test_unreachable_host_fails_within_the_budget():
    src = PersonioClient(
        source("http://127.0.0.1:9", "v2"), "id", SecretStr(SECRET),
        budget_seconds=0.3, policy=FAST,
    )  # fmt: skip
    with pytest.raises(SyncError) as caught:
        async with src:
            await src.fetch_employees(ALL_ATTRIBUTES)
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert "127.0.0.1:9" in str(caught.value) and SECRET not in str(caught.value)


async def test_empty_credentials_are_refused_before_any_request():
    with pytest.raises(ConfigurationError, match="client secret is empty"):
        async with PersonioClient(source("http://127.0.0.1:9"), "id", SecretStr(" ")):
            pass


async def test_app_and_partner_headers_are_sent_on_every_request():
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    with SandboxServer(generate_company(employees=12, seed=1), _config()) as sandbox:
        src = source(sandbox.base_url, "v2", appId="ACME_SYNC", partnerId="ACME")
        async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
            async with PersonioClient(src, "sandbox-client", SecretStr(SECRET), http=http, policy=FAST) as personio:
                result = await personio.fetch_employees(ALL_ATTRIBUTES)
            assert not http.is_closed  # a caller's client stays the caller's
    assert len(result.employees) == 12
    assert len(seen) > 12
    for request in seen:
        assert request.headers["X-Personio-App-ID"] == "ACME_SYNC"
        assert request.headers["X-Personio-Partner-ID"] == "ACME"
