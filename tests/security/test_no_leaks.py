"""No credential comes out of the process, in any encoding, through any of its outputs.

Promises pinned here (the leak check, ``tests/plugins/leaks.py``, scans the logs at DEBUG, run
reports, ``--json`` output, Events and status patches KMock received, e-mails aiosmtpd received and
exception text for the Personio client secret, the SCIM token, the SMTP password, every Personio
access token issued, and their raw, JSON, URL-encoded and base64 forms):
- the leak check itself finds each secret in each of those forms, and in a log record;
- a run against an app that echoes the request's Authorization header (raw, base64, URL-encoded) in
  every error, in the run report, the CLI's ``--json`` and text output and the logs, leaks nothing;
- errors of the Personio and SCIM clients (wrong credentials, an echoing app) hold no secret;
- with the operator in the loop, a failing run's status, Events and failure e-mail (sent with an
  SMTP login) hold none of the Personio secret, the SCIM token or the SMTP password.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from pydantic import SecretStr

from personio_operator.api.spec import PersonioSource
from personio_operator.cli import main
from personio_operator.controller.settings import SmtpSettings
from personio_operator.destinations import Side
from personio_operator.errors import SyncError
from personio_operator.personio.client import PersonioClient
from personio_operator.scim.applier import create_or_adopt
from personio_operator.scim.client import ScimClient
from personio_operator.scim.models import DesiredUser
from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from tests.apps.expected import Rules
from tests.apps.harness import AppHarness
from tests.controller.conftest import MailSink, free_port
from tests.controller.harness import eventually, fast_settings, integration_spec, put_credentials, running_operator
from tests.plugins.leaks import (
    PERSONIO_CLIENT_ID,
    PERSONIO_CLIENT_SECRET,
    SCIM_TOKEN,
    SMTP_PASSWORD,
    SMTP_USERNAME,
    SUITE_SECRETS,
    LeakCheck,
    encoded_forms,
)

ECHO = "you sent {authorization} ({token_base64} / {token_url} / {token})"
LOCAL_SERVERS = {side.env_var: "http://127.0.0.1:*" for side in Side}


@pytest.fixture
async def sandbox():
    config = SandboxConfig(rate_limits=False, client_id=PERSONIO_CLIENT_ID, client_secret=PERSONIO_CLIENT_SECRET)
    async with SandboxServer(generate_company(employees=8, seed=3), config) as server:
        yield server


@pytest.fixture
def echoing_app(scim_server_factory):
    """scim2-server refusing user creates and group PATCHes with errors that quote the credentials."""
    server = scim_server_factory(token=SCIM_TOKEN)
    server.faults.add(
        method="POST", path="/Users", status=400, scim_type="invalidValue {token}", detail=ECHO, times=None
    )
    server.faults.add(method="POST", path="/Groups", status=409, detail=ECHO, times=None)
    return server


# --- the check can fail --------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", sorted(SUITE_SECRETS.values()))
def test_the_leak_check_finds_each_secret_in_each_encoded_form(secret: str) -> None:
    value = next(value for value, label in SUITE_SECRETS.items() if label == secret)
    texts = {
        "raw": f"error: {value}",
        "Basic": "Authorization: Basic " + base64.b64encode(f"{PERSONIO_CLIENT_ID}:{value}".encode()).decode(),
        "base64url": base64.urlsafe_b64encode(value.encode()).decode(),
        "URL-encoded": f"?token={quote(value, safe='')}",
        "JSON": json.dumps({"detail": value}),
    }
    for name, text in texts.items():
        check = LeakCheck()
        check.feed("a text", text)
        assert check.findings(), f"the check missed the {secret} written as {name}"
        assert value not in str(check.findings()[0]), "a finding must not show the secret itself"
    assert len(set(encoded_forms(value).values())) >= 8


def test_the_leak_check_finds_a_secret_in_a_log_record_and_an_issued_token() -> None:
    check = LeakCheck({})
    check.add_authorization("Bearer papi-issued-by-the-sandbox-0001", "Personio access token")
    check.capture_logs()
    try:
        logging.getLogger("tests.leaks").debug("sent header %s", "papi-issued-by-the-sandbox-0001")
    finally:
        check.release_logs()
    [finding] = check.findings()
    assert finding.where == "log record tests.leaks DEBUG"
    assert finding.secret == "Personio access token"


# --- runs ------------------------------------------------------------------------------------------------


async def test_a_run_against_an_app_echoing_its_credentials_leaks_them_nowhere(
    sandbox, echoing_app, leak_check, tmp_path: Path
) -> None:
    harness = AppHarness(sandbox, echoing_app, leak_check, Rules())
    trace = await harness.run()
    harness.close()

    assert not trace.report.succeeded  # the app refused objects, with the token in its answers
    assert any(request.status == 400 for request in trace.app_requests)
    cli = await asyncio.to_thread(_cli_sync, tmp_path, sandbox.base_url, echoing_app.url, "--json")
    leak_check.feed("personio-operator sync --json", cli.output)
    text = await asyncio.to_thread(_cli_sync, tmp_path, sandbox.base_url, echoing_app.url)
    leak_check.feed("personio-operator sync", text.output)
    assert json.loads(cli.output)["result"] in {"Succeeded", "Failed"}


def _cli_sync(tmp_path: Path, personio_url: str, scim_url: str, *flags: str) -> Any:
    document = {
        "apiVersion": "hrsync.dev/v1alpha1",
        "kind": "PersonioIntegration",
        "metadata": {"name": "leaky"},
        "spec": {
            "personio": {"credentialsSecretRef": {"name": "hr-api-access"}, "baseUrl": personio_url},
            "target": {"scim": {"url": scim_url, "credentialsSecretRef": {"name": "app-access"}}},
            **Rules().spec(),
        },
    }
    integration = tmp_path / "integration.yaml"
    integration.write_text(yaml.safe_dump(document))
    env = {
        **LOCAL_SERVERS,
        "PERSONIO_CLIENT_ID": PERSONIO_CLIENT_ID,
        "PERSONIO_CLIENT_SECRET": PERSONIO_CLIENT_SECRET,
        "SCIM_TOKEN": SCIM_TOKEN,
    }
    return CliRunner().invoke(main, ["sync", "-f", str(integration), *flags], env=env, catch_exceptions=False)


async def test_client_errors_hold_no_secret(sandbox, echoing_app, leak_check) -> None:
    source = PersonioSource.model_validate(
        {"credentialsSecretRef": {"name": "hr-api-access"}, "baseUrl": sandbox.base_url}
    )
    wrong = PERSONIO_CLIENT_SECRET[::-1]
    leak_check.add_secret(wrong, "a wrong Personio client secret")
    async with PersonioClient(source, PERSONIO_CLIENT_ID, SecretStr(wrong), budget_seconds=5) as personio:
        with pytest.raises(SyncError) as refused:
            await personio.check_credentials()
    leak_check.feed_exception(refused.value, "Personio client")

    user = DesiredUser(
        external_id="personio:1", user_name="a@acme.example", given_name="A", family_name="B", email="a@acme.example"
    )
    async with ScimClient(echoing_app.url, SecretStr(SCIM_TOKEN), budget_seconds=5) as scim:
        await scim.discover()
        with pytest.raises(SyncError) as echoed:
            await create_or_adopt(scim, user)
    leak_check.feed_exception(echoed.value, "SCIM client")
    assert echoing_app.requests[-1].status == 400  # the app did answer with the echo


# --- the operator ---------------------------------------------------------------------------------------


class LoginSink(MailSink):
    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[str, str]] = []

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


async def test_status_events_and_the_failure_email_hold_no_secret(
    cluster, api, clock, sandbox, echoing_app, leak_check
):
    sink = LoginSink()
    port = free_port()
    mail = Controller(sink, hostname="127.0.0.1", port=port, authenticator=sink.authenticate, auth_require_tls=False)
    mail.start()
    try:
        smtp = SmtpSettings(
            host="127.0.0.1", port=port, starttls=False, username=SMTP_USERNAME, password=SecretStr(SMTP_PASSWORD)
        )
        await put_credentials(
            api, client_id=PERSONIO_CLIENT_ID, client_secret=PERSONIO_CLIENT_SECRET, scim_token=SCIM_TOKEN
        )
        async with running_operator(cluster, fast_settings(smtp=smtp, run_budget_seconds=2.0), clock):
            await api.create_integration("acme", integration_spec(sandbox.base_url, echoing_app.url))
            [message] = await eventually(lambda: sink.messages, within=20, what="the failure e-mail")
            await eventually(lambda: "Paused" in api.reasons("acme"), what="the Paused Event")
    finally:
        mail.stop()
    leak_check.feed_kmock(cluster)
    leak_check.feed_mail(message)

    assert sink.logins == [(SMTP_USERNAME, SMTP_PASSWORD)]  # the password was used, so it could have leaked
    assert any(request.status == 400 for request in echoing_app.requests)  # refusals quoting the token
    assert (await api.status("acme"))["history"][0]["result"] == "Failed"
