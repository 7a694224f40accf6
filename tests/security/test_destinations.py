"""Credentials only go where the operator's admin allowed.

Promises pinned here, over real HTTP (listeners on 127.0.0.1 that record every connection):
- A Personio or SCIM URL outside the allow-lists fails the run and the Test before any request
  carries a credential, with a configuration error naming the host, the rule and the setting.
- Plain http, loopback, link-local (metadata), private and unspecified addresses, localhost and
  cluster-internal names are refused when only a wildcard covers them; user:password@ always.
- A name that resolves to a public address in the pre-flight check and to a private one at
  connect time (DNS rebinding) is refused at connect, before a byte is sent.
- TLS still verifies the host name when the guard connects to the checked address.
- Redirects are not followed; Personio's next-page links never leave the configured host.
- Explicitly allowed destinations work; the settings reach the operator from env and chart values.
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import helm_python as helm
import httpx
import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr

from personio_operator.api.run import RunResult, Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.cli import main
from personio_operator.controller.settings import OperatorSettings
from personio_operator.destinations import DestinationGuard, DestinationPolicy, IPAddress, Side
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxServer
from personio_testkit.scim_app import ScimTestServer
from tests.chart.conftest import CHART, render
from tests.security.listener import Answer, Listener, Received, Responder
from tests.sync.factories import make_spec
from tests.sync.harness import Harness

CLIENT_SECRET = "personio-client-secret-S3CR3T"
SCIM_TOKEN = "scim-bearer-token-T0K3N"
SECRETS = RunSecrets(
    personio_client_id="tenant-client",
    personio_client_secret=SecretStr(CLIENT_SECRET),
    scim_token=SecretStr(SCIM_TOKEN),
)
PUBLIC = ipaddress.ip_address("93.184.215.14")
LOOPBACK = ipaddress.ip_address("127.0.0.1")

StartListener = Callable[..., Awaitable[Listener]]


@pytest.fixture
def harness(personio_sandbox: Callable[..., SandboxServer], scim_server: ScimTestServer) -> Harness:
    """The Personio sandbox (30 people) and an empty SCIM app, both on 127.0.0.1."""
    return Harness(personio_sandbox(employees=30, seed=1, rate_limits=False), scim_server)


@pytest.fixture
async def listen() -> AsyncIterator[StartListener]:
    started: list[Listener] = []

    async def start(respond: Responder | None = None, **options: Any) -> Listener:
        listener = await Listener(respond, **options).start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await listener.stop()


def spec_for(personio_url: str, scim_url: str) -> PersonioIntegrationSpec:
    """A spec pointing at ``personio_url`` and ``scim_url``, unchecked, as if a tenant's edit got past the schema."""
    spec = make_spec()
    personio = spec.personio.model_copy(update={"base_url": personio_url})
    scim = spec.target.scim.model_copy(update={"url": scim_url})
    return spec.model_copy(update={"personio": personio, "target": spec.target.model_copy(update={"scim": scim})})


async def run(
    spec: PersonioIntegrationSpec, *, dry_run: bool = False, secrets: RunSecrets = SECRETS, **options: Any
) -> RunReport:
    trigger = Trigger.TEST if dry_run else Trigger.MANUAL
    return await run_integration(spec, secrets, trigger=trigger, started_by="tenant", dry_run=dry_run, **options)


def assert_refused(report: RunReport, *words: str) -> None:
    assert report.result is RunResult.FAILED and report.error_kind is ErrorKind.CONFIGURATION, report.error
    assert report.error is not None and "not an allowed destination" in report.error
    for word in words:
        assert word in report.error, f"{word!r} not in: {report.error}"
    assert CLIENT_SECRET not in report.error and SCIM_TOKEN not in report.error


class SwitchingResolver:
    """Answers with ``first`` once (the pre-flight check), then with ``later`` (every connect)."""

    def __init__(self, first: Sequence[IPAddress], later: Sequence[IPAddress]) -> None:
        self.answers = [list(first), list(later)]
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return self.answers[0] if len(self.asked) == 1 else self.answers[1]


# --- refused before any credential is sent -------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "test"])
async def test_personio_credentials_never_reach_a_host_outside_the_allow_list(
    listen: StartListener, dry_run: bool
) -> None:
    personio, app = await listen(), await listen()
    report = await run(spec_for(personio.url(), app.url("/scim/v2")), dry_run=dry_run)  # the default policy
    assert_refused(
        report,
        "spec.personio.baseUrl",
        "127.0.0.1",
        "PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS",
        "destinations.personioUrls",
    )
    assert personio.untouched and app.untouched


async def test_a_refused_scim_url_stops_the_run_before_personio_is_asked_for_a_token(listen: StartListener) -> None:
    personio, app = await listen(), await listen()
    allowed_personio = DestinationPolicy(personio_urls=(personio.url(),))  # SCIM keeps the default: https only
    report = await run(spec_for(personio.url(), app.url("/scim/v2")), destinations=allowed_personio)
    assert_refused(report, "spec.target.scim.url", "plain http", "PERSONIO_OPERATOR_ALLOWED_SCIM_URLS", "--allow-url")
    assert personio.untouched and app.untouched


async def test_plain_http_is_refused_where_only_https_is_allowed() -> None:
    report = await run(spec_for("http://api.personio.de", "https://app.example.com/scim/v2"))
    assert_refused(report, "host api.personio.de uses plain http", "'http://api.personio.de'")


@pytest.mark.parametrize(
    ("scim_url", "rule"),
    [
        ("http://127.0.0.1:{port}/scim/v2", "is a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/scim/v2", "is a loopback address"),
        ("http://127.1:{port}/scim/v2", "resolves to a loopback address"),  # the system resolver answers
        ("http://0.0.0.0:{port}/scim/v2", "is an unspecified address"),
        ("http://localhost:{port}/scim/v2", "is a cluster-internal name (localhost)"),
        ("http://2130706433:{port}/scim/v2", "is a single-label name"),
        ("http://169.254.169.254/latest/meta-data", "is a link-local address"),
        ("http://[fd00:ec2::254]/latest/meta-data", "is a private address"),
        ("http://10.0.0.1:{port}/scim/v2", "is a private address"),
        ("http://scim.tenant-b.svc:{port}/scim/v2", "is a cluster-internal name (svc)"),
        ("https://kubernetes.default.svc.cluster.local/api", "is a cluster-internal name"),
        ("http://metadata.google.internal/computeMetadata/v1", "is a cluster-internal name (internal)"),
    ],
)
async def test_a_wildcard_never_covers_internal_destinations(listen: StartListener, scim_url: str, rule: str) -> None:
    personio, app = await listen(), await listen()
    policy = DestinationPolicy(personio_urls=(personio.url(),), scim_urls=("http://*:*", "https://*:*"))
    report = await run(spec_for(personio.url(), scim_url.format(port=app.port)), destinations=policy)
    assert_refused(report, "spec.target.scim.url", rule, "PERSONIO_OPERATOR_ALLOWED_SCIM_URLS")
    assert personio.untouched and app.untouched


@pytest.mark.parametrize("side", ["personio", "scim"])
async def test_user_and_password_in_a_url_are_refused_even_for_an_allowed_host(
    listen: StartListener, side: str
) -> None:
    personio, app = await listen(), await listen()
    local = DestinationPolicy(personio_urls=("http://127.0.0.1:*",), scim_urls=("http://127.0.0.1:*",))
    personio_url, scim_url = personio.url(), app.url("/scim/v2")
    if side == "personio":
        personio_url = f"http://admin:hunter2@127.0.0.1:{personio.port}"
    else:
        scim_url = f"http://admin:hunter2@127.0.0.1:{app.port}/scim/v2"
    report = await run(spec_for(personio_url, scim_url), destinations=local)
    assert_refused(report, "user:password@", "Secret")
    assert "hunter2" not in (report.error or "")
    assert personio.untouched and app.untouched


# --- refused at connect time ---------------------------------------------------------------------


async def test_a_personio_host_that_rebinds_to_loopback_gets_no_token_request(listen: StartListener) -> None:
    personio, app = await listen(), await listen()
    policy = DestinationPolicy(personio_urls=("http://*.rebind.test:*",), scim_urls=(app.url(),))
    resolver = SwitchingResolver(first=[PUBLIC], later=[LOOPBACK])
    spec = spec_for(f"http://personio.rebind.test:{personio.port}", app.url("/scim/v2"))
    report = await run(spec, destinations=policy, resolver=resolver)
    assert_refused(report, "personio.rebind.test", "resolves to a loopback address", "ALLOWED_PRIVATE_NETWORKS")
    assert resolver.asked[0] == "personio.rebind.test", "the pre-flight check resolved the name (and saw it public)"
    assert len(resolver.asked) >= 2, "the connect resolved it again"
    assert personio.untouched and app.untouched


async def test_a_scim_host_that_rebinds_after_the_check_fails_the_test_at_connect(
    listen: StartListener, harness: Harness
) -> None:
    app = await listen()
    policy = DestinationPolicy(personio_urls=(harness.sandbox.base_url,), scim_urls=("http://*:*",))
    resolver = SwitchingResolver(first=[PUBLIC], later=[LOOPBACK])
    spec = spec_for(harness.sandbox.base_url, f"http://scim.rebind.test:{app.port}/scim/v2")
    sandbox_login = SECRETS.model_copy(
        update={"personio_client_id": DEFAULT_CLIENT_ID, "personio_client_secret": SecretStr(DEFAULT_CLIENT_SECRET)}
    )
    report = await run(spec, dry_run=True, secrets=sandbox_login, destinations=policy, resolver=resolver)
    assert report.test is not None and report.test.personio_reachable, "Personio was read before the app"
    assert_refused(report, "scim.rebind.test", "resolves to a loopback address")
    assert app.untouched


async def test_the_guard_connects_to_the_address_it_checked(listen: StartListener) -> None:
    """The control for the rebinding tests: allowed, the same resolver's address is what gets the request."""
    personio = await listen(lambda _: Answer(401, {"error": "invalid_client"}))
    policy = DestinationPolicy(
        personio_urls=("http://*.rebind.test:*",), scim_urls=("https://*",), private_networks=("127.0.0.0/8",)
    )
    resolver = SwitchingResolver(first=[PUBLIC], later=[LOOPBACK])
    spec = spec_for(f"http://personio.rebind.test:{personio.port}", "https://app.example.com/scim/v2")
    report = await run(spec, destinations=policy, resolver=resolver)
    assert report.error_kind is ErrorKind.CONFIGURATION and "not an allowed destination" not in (report.error or "")
    (token_request,) = personio.requests
    assert token_request.path == "/v2/auth/token" and token_request.headers["host"].startswith("personio.rebind.test")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for app.tls.test only (no IP address in it)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=app.tls.test"]
    command += ["-addext", "subjectAltName=DNS:app.tls.test", "-keyout", str(key), "-out", str(cert)]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("openssl is not installed")
    return cert, key


@pytest.mark.parametrize(("name", "verifies"), [("app.tls.test", True), ("other.tls.test", False)])
async def test_tls_verifies_the_host_name_not_the_checked_address(
    listen: StartListener, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str, verifies: bool
) -> None:
    import ssl

    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    app = await listen(tls=server_tls)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the operator trusts the system CAs or SSL_CERT_FILE

    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [LOOPBACK]

    policy = DestinationPolicy(scim_urls=(f"https://{name}:{app.port}",))
    async with DestinationGuard(policy, resolve).client(Side.SCIM, max_connections=2) as client:
        if verifies:
            response = await client.get(f"https://{name}:{app.port}/scim/v2/ServiceProviderConfig")
            assert response.status_code == 200
            assert app.server_names == [name] and app.requests[0].headers["host"] == f"{name}:{app.port}"
        else:
            with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|match"):
                await client.get(f"https://{name}:{app.port}/scim/v2/ServiceProviderConfig")
            assert app.requests == []


# --- no way around the lists: redirects and links ------------------------------------------------


async def test_a_redirect_is_not_followed(listen: StartListener) -> None:
    elsewhere = await listen()
    personio = await listen(lambda _: Answer(307, {}, {"Location": elsewhere.url("/v2/auth/token")}))
    local = DestinationPolicy(personio_urls=("http://127.0.0.1:*",), scim_urls=("http://127.0.0.1:*",))
    report = await run(spec_for(personio.url(), "http://127.0.0.1:9/scim/v2"), destinations=local)
    assert report.result is RunResult.FAILED
    assert [request.path for request in personio.requests] == ["/v2/auth/token"]
    assert elsewhere.untouched


async def test_personio_next_page_links_stay_on_the_configured_host(listen: StartListener) -> None:
    elsewhere = await listen()

    def personio_api(request: Received) -> Answer:
        if request.path == "/v2/auth/token":
            return Answer(body={"access_token": "personio-access-token", "expires_in": 3600})
        if request.path == "/v2/persons" and "cursor=page-2" not in request.target:
            next_page = {"next": {"href": elsewhere.url("/v2/persons?cursor=page-2")}}
            return Answer(body={"_data": [{"id": "1"}], "_meta": {"links": next_page}})
        return Answer(body={"_data": []})

    personio = await listen(personio_api)
    both_allowed = DestinationPolicy(personio_urls=("http://127.0.0.1:*",), scim_urls=("http://127.0.0.1:*",))
    await run(spec_for(personio.url(), "http://127.0.0.1:9/scim/v2"), dry_run=True, destinations=both_allowed)
    second_page = [r for r in personio.requests if r.path == "/v2/persons" and "cursor=page-2" in r.target]
    assert len(second_page) == 1 and second_page[0].headers["authorization"] == "Bearer personio-access-token"
    assert elsewhere.untouched


# --- allowed destinations work ---------------------------------------------------------------------


async def test_an_allowed_personio_host_gets_the_credentials(listen: StartListener) -> None:
    """The control for every refusal above: the same listener, allowed, receives the token request."""
    personio = await listen(lambda _: Answer(401, {"error": "invalid_client"}))
    report = await run(
        spec_for(personio.url(), "https://app.example.com/scim/v2"),
        destinations=DestinationPolicy(personio_urls=(personio.url(),)),
    )
    assert report.error_kind is ErrorKind.CONFIGURATION and "not an allowed destination" not in (report.error or "")
    (token_request,) = personio.requests
    assert CLIENT_SECRET in token_request.body.decode()


async def test_wildcards_with_an_allowed_network_and_exactly_named_hosts_work(harness: Harness) -> None:
    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
        scim_token=SecretStr(harness.app.token),
    )
    localhost_personio = harness.sandbox.base_url.replace("127.0.0.1", "localhost")
    policy = DestinationPolicy(
        personio_urls=("http://localhost:*",),  # named exactly: allowed at its loopback address(es)
        scim_urls=("http://*:*",),
        private_networks=("127.0.0.0/8",),
    )
    spec = spec_for(localhost_personio, harness.app.url)
    report = await run_integration(
        spec, secrets, trigger=Trigger.TEST, started_by="t", dry_run=True, destinations=policy
    )
    assert report.succeeded, report.error
    assert report.test is not None and report.test.target_reachable and report.test.employees_fetched == 30


# --- settings: environment, chart, CLI --------------------------------------------------------------


def test_the_defaults_allow_only_personio_and_public_https_apps() -> None:
    policy = OperatorSettings.from_env({}).destinations
    assert [str(p) for p in policy.personio_urls] == ["https://api.personio.de"]
    assert [str(p) for p in policy.scim_urls] == ["https://*"] and policy.private_networks == ()


def test_the_operator_reads_the_allow_lists_from_its_environment() -> None:
    settings = OperatorSettings.from_env(
        {
            "PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS": "https://api.personio.de, https://personio-proxy.example.com",
            "PERSONIO_OPERATOR_ALLOWED_SCIM_URLS": "https://*.apps.example.com:*",
            "PERSONIO_OPERATOR_ALLOWED_PRIVATE_NETWORKS": "10.20.0.0/16,fd00::/8",
        }
    )
    policy = settings.destinations
    policy.check_url(Side.PERSONIO, "https://personio-proxy.example.com")
    policy.check_url(Side.SCIM, "https://acme.apps.example.com:8443/scim/v2")
    with pytest.raises(Exception, match="not on the list of allowed destinations"):
        policy.check_url(Side.SCIM, "https://app.example.com/scim/v2")
    assert [str(n) for n in policy.private_networks] == ["10.20.0.0/16", "fd00::/8"]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("PERSONIO_OPERATOR_ALLOWED_SCIM_URLS", "https://app.example.com/scim/v2", "drop '/scim/v2'"),
        ("PERSONIO_OPERATOR_ALLOWED_SCIM_URLS", "ftp://files.example.com", "scheme must be https or http"),
        ("PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS", "https://api.*.de", "wildcard"),
        ("PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS", "https://user:pw@api.personio.de", "user:password@"),
        ("PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS", "https://api.personio.de:0", "port"),
        ("PERSONIO_OPERATOR_ALLOWED_PRIVATE_NETWORKS", "10.0.0.1/8", "not a valid IPv4 or IPv6 network"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=variable) as raised:
        OperatorSettings.from_env({variable: value})
    assert problem in str(raised.value)
    assert "pw@" not in str(raised.value)


@pytest.fixture(scope="module")
def chart() -> Any:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def _operator_env(objects: list[dict[str, Any]]) -> dict[str, str]:
    (deployment,) = [obj for obj in objects if obj["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


def test_chart_values_reach_the_operator_as_its_allow_lists(chart: Any) -> None:
    assert OperatorSettings.from_env(_operator_env(render(chart))).destinations == DestinationPolicy()
    values = {
        "destinations": {
            "personioUrls": ["https://api.personio.de", "https://personio-proxy.example.com"],
            "scimUrls": ["https://*.apps.example.com", "http://scim-bridge.tools.svc:8080"],
            "privateNetworks": ["10.20.0.0/16"],
        }
    }
    policy = OperatorSettings.from_env(_operator_env(render(chart, values))).destinations
    assert [str(p) for p in policy.personio_urls] == values["destinations"]["personioUrls"]
    assert [str(p) for p in policy.scim_urls] == values["destinations"]["scimUrls"]
    assert [str(n) for n in policy.private_networks] == ["10.20.0.0/16"]


@pytest.mark.parametrize("pattern", ["https://app.example.com/scim", "https://a.example.com,https://b.example.com"])
def test_the_chart_refuses_patterns_the_operator_would_refuse(chart: Any, pattern: str) -> None:
    with pytest.raises(helm.HelmError):
        render(chart, {"destinations": {"scimUrls": [pattern]}})


def _integration_file(tmp_path: Path, harness: Harness) -> tuple[Path, Path]:
    integration = {
        "apiVersion": "hrsync.dev/v1alpha1",
        "kind": "PersonioIntegration",
        "metadata": {"name": "local"},
        "spec": {
            "personio": {"credentialsSecretRef": {"name": "personio-credentials"}, "baseUrl": harness.sandbox.base_url},
            "target": {"scim": {"url": harness.app.url, "credentialsSecretRef": {"name": "scim-token"}}},
        },
    }
    secrets = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "personio-credentials"},
            "stringData": {"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "scim-token"},
            "stringData": {"token": harness.app.token},
        },
    ]
    (tmp_path / "integration.yaml").write_text(yaml.safe_dump(integration))
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump_all(secrets))
    return tmp_path / "integration.yaml", tmp_path / "secrets.yaml"


def test_the_cli_refuses_local_servers_unless_allowed_with_one_flag(tmp_path: Path, harness: Harness) -> None:
    integration, secrets = _integration_file(tmp_path, harness)
    command = ["plan", "-f", str(integration), "--secrets", str(secrets)]
    refused = CliRunner().invoke(main, command, env={})
    assert refused.exit_code == 1
    assert "not an allowed destination" in refused.output and "--allow-url" in refused.output
    assert harness.app.requests == []

    allowed = CliRunner().invoke(main, [*command, "--allow-url", "http://127.0.0.1:*"], env={})
    assert allowed.exit_code == 0, allowed.output


def test_a_bad_allow_url_flag_is_bad_input(tmp_path: Path, harness: Harness) -> None:
    integration, secrets = _integration_file(tmp_path, harness)
    command = ["plan", "-f", str(integration), "--secrets", str(secrets), "--allow-url", "127.0.0.1:8089"]
    result = CliRunner().invoke(main, command, env={})
    assert result.exit_code == 2 and "scheme://host[:port]" in result.output
