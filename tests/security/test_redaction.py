"""Nothing secret is echoed: every text that leaves the process passes one redaction step.

Promises pinned here:
- A remembered secret is gone from any text, also base64-encoded (whatever precedes it, as inside
  ``Basic base64(id:secret)``), URL-encoded and JSON-escaped.
- Anything shaped like a credential is gone even when it was never remembered: Authorization header
  values, Bearer/Basic credentials, ``user:pw@`` in URLs, ``token=`` / ``"client_secret": ...`` fields,
  JWTs; our own messages about tokens and Secrets stay readable.
- Text an app or Personio sends is cleaned (terminal escapes, control, bidi and invisible characters)
  and capped, and a secret cut by the cap leaves nothing of itself behind.
- Log records at every level, tracebacks included, are redacted whatever handler formats them.
- The memory of secrets is bounded.
- Over real HTTP, a SCIM app that echoes the Authorization header (and the token raw, base64 and
  URL-encoded) into its error details, and a Personio that echoes the client secret, leak nothing
  into: ``sync --json`` / text output, exception text, logs at DEBUG, and on a cluster (KMock) the
  status patches, Events and the failure e-mail.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from personio_operator.api.spec import PersonioSource
from personio_operator.cli import main
from personio_operator.controller.settings import SmtpSettings
from personio_operator.controller.triggers import TEST_REQUEST_ANNOTATION
from personio_operator.personio.client import PersonioClient
from personio_operator.personio.errors import PersonioCredentialsError
from personio_operator.redaction import (
    MASK,
    MAX_REMEMBERED,
    clean_untrusted,
    forget_secrets,
    install_log_redaction,
    redact,
    redact_data,
    remember_secret,
    remembered_count,
)
from personio_operator.scim.applier import create_or_adopt
from personio_operator.scim.client import ScimClient
from personio_operator.scim.errors import ScimConflictError, ScimRequestError
from personio_operator.scim.models import DesiredUser
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID
from personio_testkit.scim_app import ScimTestServer
from tests.controller import conftest as controller
from tests.controller.harness import eventually, fast_settings, integration_spec, put_credentials, running_operator

# The operator-in-the-loop fixtures of the controller tests: KMock as the API, a hand-set clock, aiosmtpd.
kmock_options, cluster, api, clock, smtp = (
    controller.kmock_options,
    controller.cluster,
    controller.api,
    controller.clock,
    controller.smtp,
)

SCIM_TOKEN = "scim/T0ken+with=odd&chars-do-not-leak"
PERSONIO_SECRET = "pers0nio/Secret+value=42!do-not-leak"
# Like apps that echo the request: the header, the bare token, and the token base64- and URL-encoded.
ECHO = "request with Authorization: {authorization} refused; token {token}, b64 {token_base64}, url {token_url}"
EXAMPLE = Path("examples/local/integration.yaml")


@pytest.fixture(autouse=True)
def clean_slate() -> Iterator[None]:
    """Values remembered by one test must not mask text in another."""
    forget_secrets()
    yield
    forget_secrets()


# --- what "gone" means ------------------------------------------------------------------------------


def encodings(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    }


def decodes_to(text: str, secret: str) -> bool:
    """Whether some base64 run in the text, read from any of its characters, decodes to bytes that
    contain the secret (independent of how the redaction finds base64 forms)."""
    wanted = secret.encode()
    for run in re.findall(r"[A-Za-z0-9+/_\-]{4,}", text):
        run = run.replace("-", "+").replace("_", "/")
        for shift in range(4):
            chunk = run[shift:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            if chunk and wanted in base64.b64decode(chunk):
                return True
    return False


def assert_gone(text: str, *secrets: str, where: str) -> None:
    for secret in secrets:
        for form in encodings(secret):
            assert form not in text, f"{where} shows {form!r}:\n{text}"
        assert not decodes_to(text, secret), f"{where} shows the secret base64-encoded:\n{text}"


# --- redact: remembered values ------------------------------------------------------------------------

secrets_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="*"), min_size=8, max_size=40)
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(secret=secrets_text, before=any_text, after=any_text)
def test_a_remembered_secret_embedded_in_any_text_is_gone(secret: str, before: str, after: str) -> None:
    forget_secrets()
    remember_secret(secret)
    redacted = redact(before + secret + after + secret)
    assert secret not in redacted
    assert MASK in redacted


@settings(max_examples=200, deadline=None)
@given(secret=secrets_text, before=st.binary(max_size=12), after=st.binary(max_size=12), urlsafe=st.booleans())
def test_a_secret_inside_any_base64_text_cannot_be_decoded(
    secret: str, before: bytes, after: bytes, urlsafe: bool
) -> None:
    forget_secrets()
    remember_secret(secret)
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    echoed = encode(before + secret.encode() + after).decode()
    redacted = redact(f"the app said: {echoed}")
    assert not decodes_to(redacted, secret), redacted


@settings(max_examples=200, deadline=None)
@given(secret=secrets_text, plus=st.booleans(), lower_hex=st.booleans())
def test_a_url_encoded_secret_is_gone(secret: str, plus: bool, lower_hex: bool) -> None:
    forget_secrets()
    remember_secret(secret)
    encoded = quote_plus(secret, safe="") if plus else quote(secret, safe="")
    if lower_hex:
        encoded = re.sub(r"%[0-9A-F]{2}", lambda match: match.group().lower(), encoded)
    redacted = redact(f"GET /callback?state=1&echo={encoded}&x=2")
    assert encoded not in redacted


def test_a_basic_credential_of_client_id_and_secret_is_gone() -> None:
    remember_secret(PERSONIO_SECRET)
    pair = base64.b64encode(f"acme-client-id:{PERSONIO_SECRET}".encode()).decode()
    redacted = redact(f"rejected header {pair} (was it Basic?)")
    assert_gone(redacted, PERSONIO_SECRET, where="redacted text")
    assert "rejected header" in redacted


def test_the_memory_of_secrets_is_bounded_and_forgets_the_least_recently_remembered() -> None:
    values = [f"value-{number:06d}-secret" for number in range(MAX_REMEMBERED + 50)]
    for value in values:
        remember_secret(value)
    assert remembered_count() == MAX_REMEMBERED
    assert redact(values[-1]) == MASK
    assert redact(values[49]) == values[49]  # the oldest 50 were forgotten
    remember_secret(values[50])  # read again for a run: now the most recent
    remember_secret("one-more-secret-value")
    assert remembered_count() == MAX_REMEMBERED
    assert redact(values[50]) == MASK
    assert redact(values[51]) == values[51]


def test_values_too_short_to_be_secrets_do_not_mask_words() -> None:
    remember_secret("abc")
    remember_secret("   ")
    assert redact("abc def") == "abc def"
    assert remembered_count() == 0


# --- redact: shapes of credentials -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "credential", "kept"),
    [
        ("Authorization: Bearer abc.def-123", "abc.def-123", "Authorization:"),
        ("{'Authorization': 'SSWS 00aBcD'}", "00aBcD", "'Authorization'"),
        ('{"authorization":"Token t0k3n"}', "t0k3n", '"authorization"'),
        ("proxy-authorization=s3cr3tvalue", "s3cr3tvalue", "proxy-authorization"),
        ("[(b'WWW-Authenticate', b'Bearer eyAbc123xyz')]", "eyAbc123xyz", "WWW-Authenticate"),
        ("sent basic dXNlcjpwYXNzd29yZA== to it", "dXNlcjpwYXNzd29yZA==", "sent basic"),
        ("bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz", "bearer"),
        ("https://admin:hunter22@scim.example.com/v2", "admin:hunter22", "scim.example.com/v2"),
        ("https://ghp_token123@git.example.com", "ghp_token123", "git.example.com"),
        ("GET /v1/x?access_token=abc123&page=2", "abc123", "page=2"),
        ("callback?token=zzz999", "zzz999", "callback?token="),
        ("grant_type=client_credentials&client_id=id1&client_secret=pa%2Fss", "pa%2Fss", "client_id=id1"),
        ('{"client_secret": "p@ss w0rd", "scope": "all"}', "p@ss w0rd", '"scope": "all"'),
        ("{'refresh_token': 'r-123'}", "r-123", "refresh_token"),
        ('"clientSecret":"camel-case-1"', "camel-case-1", "clientSecret"),
        ("password: hunter2", "hunter2", "password:"),
        ("X-Api-Key: k-42", "k-42", "X-Api-Key"),
        ("Private-Token: glpat-123", "glpat-123", "Private-Token"),
        ("api_key='k4'", "k4", "api_key="),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_nature", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "jwt"),
    ],
)
def test_anything_shaped_like_a_credential_is_gone(text: str, credential: str, kept: str) -> None:
    redacted = redact(text)
    assert credential not in redacted, redacted
    assert kept in redacted
    assert MASK in redacted


@pytest.mark.parametrize(
    "text",
    [
        "The SCIM server at https://app.example.com/v2 refused the bearer token (HTTP 401 on GET /Users)",
        "put a valid SCIM token for this app into key 'token' of Secret 'scim-token'",
        "Secret 'scim-token' has no key 'token': add it, or fix the key name in the spec",
        "Basic authentication. Bearer tokens.",
        "set clientIdKey: username, clientSecretKey: password",
        "TokenCache(has_token=True) with max_tokens=5",
        '{"token": 5, "secret": null}',
        "mailto:jane@example.com and jane.doe@example.com",
    ],
)
def test_our_own_messages_about_tokens_stay_readable(text: str) -> None:
    assert redact(text) == text


@settings(max_examples=200, deadline=None)
@given(
    token=st.from_regex(r"[A-Za-z0-9._~+/-]{7,40}[0-9]", fullmatch=True),
    scheme=st.sampled_from(["Bearer", "bearer", "BASIC", "Basic"]),
    before=st.text(max_size=30),
)
def test_any_bearer_or_basic_credential_is_gone(token: str, scheme: str, before: str) -> None:
    redacted = redact(f"{before} {scheme} {token}")
    assert token not in redacted


def test_every_string_in_a_status_patch_is_redacted() -> None:
    remember_secret(SCIM_TOKEN)
    patch = {
        "phase": "Paused",
        "history": [{"error": f"refused: {SCIM_TOKEN}", "users": {"created": 1}}],
        "conditions": ({"message": f"Authorization: Bearer {SCIM_TOKEN}"},),
        "pausedGeneration": 3,
        "currentRun": None,
    }
    redacted = redact_data(patch)
    assert_gone(json.dumps(redacted), SCIM_TOKEN, where="status patch")
    assert redacted["history"][0]["users"] == {"created": 1}
    assert redacted["pausedGeneration"] == 3 and redacted["currentRun"] is None


# --- text from outside -----------------------------------------------------------------------------


def test_app_text_loses_escapes_control_bidi_and_invisible_characters_but_keeps_joiners() -> None:
    hostile = (
        "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 a\x00b\rc\nd \u202egnp.exe\u202c "
        "\u2066x\u2069 zero\u200bwidth \ufeffbom \U000e0041tag \ud800"
    )
    cleaned = clean_untrusted(hostile)
    assert cleaned == "red link ab c d gnp.exe x zerowidth bom tag"
    family = "👩\u200d👩\u200d👧 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWJ emoji, Persian with ZWNJ
    assert clean_untrusted(family) == family


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=600), limit=st.integers(min_value=1, max_value=300))
def test_app_text_is_one_clean_line_within_its_limit(text: str, limit: int) -> None:
    cleaned = clean_untrusted(text, limit)
    assert len(cleaned) <= limit
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]", cleaned)


def test_a_secret_cut_by_the_cap_leaves_nothing_of_itself() -> None:
    remember_secret(SCIM_TOKEN)
    for padding in range(170, 200):
        cleaned = clean_untrusted("x" * padding + SCIM_TOKEN + " tail", 200)
        assert SCIM_TOKEN[:6] not in cleaned, (padding, cleaned)


# --- logs ----------------------------------------------------------------------------------------------


def test_log_records_at_every_level_and_their_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent: one redaction step, not a growing chain
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory
    remember_secret(SCIM_TOKEN)
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("tests.security.redaction")
    log.debug("sending Authorization: Bearer %s", SCIM_TOKEN)
    log.info("echo %(token)s", {"token": quote(SCIM_TOKEN, safe="")})
    log.warning(f"f-string {base64.b64encode(SCIM_TOKEN.encode()).decode()}")
    log.error("bad format %s %s", SCIM_TOKEN)  # arguments that do not fit: still no secret
    try:
        raise RuntimeError(f"the app answered {SCIM_TOKEN}")
    except RuntimeError:
        log.exception("request failed")
    log.info("where", stack_info=True, extra={"note": "stack"})

    assert len(caplog.records) == 6
    for record in caplog.records:
        assert_gone(record.getMessage(), SCIM_TOKEN, where=f"log message {record.msg!r}")
        assert_gone(record.exc_text or "", SCIM_TOKEN, where="log traceback")
        assert_gone(record.stack_info or "", SCIM_TOKEN, where="log stack")
        if record.exc_info:  # a handler formatting the exception itself
            assert_gone("".join(traceback.format_exception(*record.exc_info)), SCIM_TOKEN, where="exc_info")
    assert_gone(caplog.text, SCIM_TOKEN, where="formatted log")
    assert "RuntimeError: the app answered ***" in caplog.text


# --- over real HTTP: the SCIM and Personio clients ----------------------------------------------------


class EchoingPersonio:
    """A Personio stand-in over HTTP on 127.0.0.1 that refuses every request and echoes it: body,
    Authorization header and a Basic credential of the client id and secret it was sent."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fields = dict(pair.split("=", 1) for pair in body.split("&") if "=" in pair)
                pair = f"{fields.get('client_id', '')}:{unquote_plus(fields.get('client_secret', ''))}"
                basic = base64.b64encode(pair.encode()).decode()
                description = (
                    f"client authentication failed for {body} (Authorization: {self.headers.get('Authorization')}; "
                    f"expected Basic {basic}); secret={unquote_plus(fields.get('client_secret', ''))}"
                )
                answer = json.dumps({"error": "invalid_client", "error_description": description}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> EchoingPersonio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echoing_personio() -> Iterator[EchoingPersonio]:
    with EchoingPersonio() as server:
        yield server


@pytest.fixture
def echoing_app(scim_server_factory) -> ScimTestServer:
    """A SCIM app that refuses every new user, echoing the request's credentials in the error."""
    app = scim_server_factory(token=SCIM_TOKEN)
    app.faults.add(method="POST", path="/Users", status=400, times=None, detail=ECHO, scim_type="{token}")
    return app


async def test_the_scim_clients_errors_never_carry_the_token(scim_server_factory) -> None:
    app = scim_server_factory(token=SCIM_TOKEN)
    app.faults.add(method="GET", path="/Users", status=400, times=None, detail=ECHO, scim_type="{token_url}")
    app.faults.add(method="GET", path="/Groups", status=409, times=None, detail=ECHO)
    async with ScimClient(app.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=5.0) as client:
        with pytest.raises(ScimRequestError) as refused:
            await client.list_users()
        with pytest.raises(ScimRequestError) as conflict:
            await client.list_groups()
    for error in (refused.value, conflict.value):
        assert "was refused by the app" in str(error)
        assert "request with Authorization: ***" in str(error)  # the detail itself is still shown
        assert_gone(str(error), SCIM_TOKEN, where="SCIM error")
        assert len(str(error)) < 400
    assert app.faults.items[0].fired == 1 and app.faults.items[1].fired == 1


async def test_a_duplicate_refusal_that_echoes_the_token_does_not_carry_it(scim_server_factory) -> None:
    app = scim_server_factory(token=SCIM_TOKEN)
    app.faults.add(method="POST", path="/Users", status=409, times=None, detail=ECHO)
    desired = DesiredUser(
        external_id="personio:1",
        user_name="jane@acme.example",
        given_name="Jane",
        family_name="Doe",
        email="jane@acme.example",
    )
    async with ScimClient(app.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=5.0) as client:
        await client.discover()
        with pytest.raises(ScimConflictError) as conflict:
            await create_or_adopt(client, desired)
    assert "as a duplicate (request with Authorization: ***" in str(conflict.value)
    assert_gone(str(conflict.value), SCIM_TOKEN, where="conflict error")


async def test_the_personio_clients_errors_never_carry_the_client_secret(echoing_personio) -> None:
    source = PersonioSource.model_validate(
        {"baseUrl": echoing_personio.base_url, "credentialsSecretRef": {"name": "personio-credentials"}}
    )
    async with PersonioClient(source, "acme-client-id", SecretStr(PERSONIO_SECRET)) as client:
        with pytest.raises(PersonioCredentialsError) as rejected:
            await client.check_credentials()
    message = str(rejected.value)
    assert "Personio rejected the client id/secret (401: invalid_client: client authentication failed" in message
    assert_gone(message, PERSONIO_SECRET, where="Personio error")


# --- over real HTTP: the CLI --------------------------------------------------------------------------


def integration_file(tmp_path: Path, personio_url: str, scim_url: str) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["spec"]["personio"]["baseUrl"] = personio_url
    document["spec"]["target"]["scim"]["url"] = scim_url
    path = tmp_path / "integration.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def cli(*args: str) -> Any:
    env = {"PERSONIO_CLIENT_ID": DEFAULT_CLIENT_ID, "PERSONIO_CLIENT_SECRET": PERSONIO_SECRET, "SCIM_TOKEN": SCIM_TOKEN}
    return CliRunner().invoke(main, [*args, "--allow-url", "http://127.0.0.1:*"], env=env)


@pytest.mark.parametrize("output", ["--json", "text"])
def test_a_local_sync_against_an_echoing_app_shows_no_token(
    tmp_path: Path, personio_sandbox, echoing_app: ScimTestServer, caplog: pytest.LogCaptureFixture, output: str
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = personio_sandbox(employees=12, seed=3, client_secret=SecretStr(PERSONIO_SECRET))
    path = integration_file(tmp_path, sandbox.base_url, echoing_app.url)
    result = cli("sync", "-f", str(path), *(["--json"] if output == "--json" else []))

    assert echoing_app.faults.items[0].fired > 0, "the app echoed nothing"
    assert result.exit_code == 1, result.output
    assert "refused by the app (HTTP 400, ***): request with Authorization: ***" in result.output
    assert_gone(result.output, SCIM_TOKEN, PERSONIO_SECRET, where="CLI output")
    assert_gone(repr(result.exception), SCIM_TOKEN, where="the CLI's exception")
    if output == "--json":
        report = json.loads(result.output)
        assert report["result"] == "Failed" and report["objects"][0]["ok"] is False
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    for record in caplog.records:
        assert_gone(record.getMessage(), SCIM_TOKEN, PERSONIO_SECRET, where="a log record")
    assert_gone(caplog.text, SCIM_TOKEN, PERSONIO_SECRET, where="the log")


def test_a_local_plan_against_an_echoing_personio_shows_no_client_secret(
    tmp_path: Path, echoing_personio: EchoingPersonio, scim_server_factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = scim_server_factory(token=SCIM_TOKEN)
    path = integration_file(tmp_path, echoing_personio.base_url, app.url)
    result = cli("plan", "-f", str(path), "--json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert "Personio rejected the client id/secret (401: invalid_client" in report["error"]
    assert_gone(result.output, SCIM_TOKEN, PERSONIO_SECRET, where="CLI output")
    assert_gone(caplog.text, SCIM_TOKEN, PERSONIO_SECRET, where="the log")


# --- over real HTTP: the operator on KMock -------------------------------------------------------------


@pytest.fixture
def sandbox_for_operator(personio_sandbox):
    return personio_sandbox(employees=12, seed=3, client_id=DEFAULT_CLIENT_ID, client_secret=SecretStr(PERSONIO_SECRET))


async def test_an_operator_run_against_echoing_apps_leaks_nothing(
    cluster,
    api,
    clock,
    smtp,
    sandbox_for_operator,
    echoing_app: ScimTestServer,
    echoing_personio: EchoingPersonio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sink, port = smtp
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example"))
    await put_credentials(api, client_id=DEFAULT_CLIENT_ID, client_secret=PERSONIO_SECRET, scim_token=SCIM_TOKEN)
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", integration_spec(sandbox_for_operator.base_url, echoing_app.url))
        await api.create_integration("beta", integration_spec(echoing_personio.base_url, echoing_app.url))
        for name in ("acme", "beta"):
            await eventually(lambda name=name: _paused(api, name), within=30, what=f"{name} to fail and pause")
        await eventually(lambda: len(sink.messages) == 2, within=15, what="two failure e-mails")

        # The Test reads the app: an echoing refusal of the read ends up in status.lastTest.
        echoing_app.faults.add(method="GET", path="/Users", status=400, times=None, detail=ECHO)
        request = "2026-11-25T10:05:00Z by alice@acme.example"
        await api.annotate("acme", TEST_REQUEST_ANNOTATION, request)
        await eventually(
            lambda: _status_if(api, "acme", lambda s: s.get("lastHandledTestRequest") == request),
            within=30,
            what="the Test result",
        )

    acme, beta = await api.get("acme"), await api.get("beta")
    assert "request with Authorization: ***" in acme["status"]["history"][0]["error"]
    assert "request with Authorization: ***" in acme["status"]["lastTest"]["error"]
    assert "request with Authorization: ***" in acme["status"]["lastRunRejections"]["objects"][0]["reason"]
    ready = {c["type"]: c for c in beta["status"]["conditions"]}["Ready"]
    assert "invalid_client: client authentication failed" in ready["message"]

    secrets = (SCIM_TOKEN, PERSONIO_SECRET)
    assert_gone(json.dumps([acme, beta]), *secrets, where="status")
    written = [seen for seen in cluster if str(seen.url).endswith(("/status", "/events"))]
    assert len(written) > 10, "the operator wrote no status or Events"
    for seen in written:  # every status patch and Event the API received
        body = seen.body if isinstance(seen.body, bytes) else str(seen.body or "").encode()
        assert_gone(body.decode(errors="replace"), *secrets, where=f"{seen.method} {seen.url}")
    events = api.events("acme") + api.events("beta")
    assert {"RunFailed", "Paused", "TestFailed", "ObjectsRejected"} <= {event["reason"] for event in events}
    assert_gone(json.dumps(events), *secrets, where="Events")
    for mail in sink.messages:
        assert "request with Authorization: ***" in mail.get_content() or "invalid_client" in mail.get_content()
        assert_gone(mail.as_string(), *secrets, where="failure e-mail")
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    for record in caplog.records:
        assert_gone(record.getMessage(), *secrets, where="a log record")
        assert_gone(record.exc_text or "", *secrets, where="a logged traceback")
    assert_gone(caplog.text, *secrets, where="the log")


async def _paused(cluster_api, name: str) -> dict[str, Any] | None:
    status = await cluster_api.status(name)
    return status if status.get("pausedGeneration") is not None and status.get("history") else None


async def _status_if(cluster_api, name: str, predicate) -> dict[str, Any] | None:
    status = await cluster_api.status(name)
    return status if predicate(status) else None
