"""The leak check: no secret value, in any encoding, in anything the product lets out of the process.

A reusable collector for suites that drive whole runs (the every-app module, the fault suite,
``tests/security/test_no_leaks.py``). It knows the suite's secret values and every ``Authorization``
header value the servers handed out, and scans:

- every log record of the process at DEBUG (message, traceback, stack), captured while the test runs;
- whatever a test feeds it: run reports (what ``--json`` prints and status history is made of), CLI
  output, e-mails aiosmtpd received, the requests the operator sent to KMock (status patches,
  Events), and exception text.

    async def test_x(leak_check):
        leak_check.feed_report(report)          # or feed(where, text), feed_mail, feed_kmock...
        leak_check.add_secret(token, "Personio access token")   # a header value seen at a server
        # the test fails at teardown if any value was found; leak_check.findings() lists them

The check is independent of the product's redaction step: it derives the encoded forms itself
(raw, its first characters where a text was cut short, JSON-escaped, URL-encoded, base64 and
base64url at any byte offset, so ``Basic base64(id:secret)`` is found too) and never shows a
secret in its own failure messages.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from _pytest.logging import LogCaptureHandler
from pydantic import BaseModel

# The suites' credentials: distinctive (never a word that occurs by chance, never a Secret's name) and
# made of characters that URL-encoding and base64 change, so each encoded form is a different string.
# Valid where they are used: "+", "/" and "~" are allowed in a bearer token (RFC 6750 b64token).
PERSONIO_CLIENT_ID = "h10-personio-client"
PERSONIO_CLIENT_SECRET = "papi-h10/Kx9+Vq2~personio-client-secret"
SCIM_TOKEN = "scim-h10/Zt4+Rw8~bearer-token"
SMTP_USERNAME = "h10-mailer"
SMTP_PASSWORD = "smtp-h10/Pw7+Lm3~mail-password"

SUITE_SECRETS = {
    PERSONIO_CLIENT_SECRET: "Personio client secret",
    SCIM_TOKEN: "SCIM bearer token",
    SMTP_PASSWORD: "SMTP password",
}

_MIN_FORM_LENGTH = 8  # shorter fragments (of a base64 text, say) would match by chance
_EXCERPT = 60  # characters shown around a finding
_PREFIX = 12  # a value's first characters, found where a text was cut in the middle of it


def encoded_forms(value: str) -> dict[str, str]:
    """Every form in which ``value`` could be written out, by name."""
    forms: dict[str, str] = {"raw": value}
    forms["JSON-escaped"] = json.dumps(value)[1:-1]
    forms["JSON-escaped slashes"] = json.dumps(value)[1:-1].replace("/", "\\/")
    forms["URL-encoded"] = quote(value, safe="")
    forms["URL-encoded (lower-case hex)"] = re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(value, safe=""))
    forms["form-encoded"] = quote_plus(value, safe="")
    forms["URL-encoded path"] = quote(value)
    if len(value) >= 2 * _PREFIX:
        forms["cut short"] = value[:_PREFIX]  # a text truncated in the middle of the value
    raw = value.encode()
    for offset in range(3):
        # Inside a longer base64 text (e.g. "client-id:" + secret), the value's bytes start at any of
        # three byte offsets; these characters depend on the value's bytes alone.
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(raw)) // 6]
        forms[f"base64 (offset {offset})"] = core
        forms[f"base64url (offset {offset})"] = core.replace("+", "-").replace("/", "_")
    return {name: form for name, form in forms.items() if len(form) >= _MIN_FORM_LENGTH}


@dataclass(frozen=True)
class Finding:
    secret: str  # what it is, e.g. "SCIM bearer token" (never the value)
    form: str  # e.g. "base64 (offset 1)"
    where: str  # e.g. "log record personio_operator.scim.client DEBUG"
    excerpt: str  # the text before it, known values replaced by their labels

    def __str__(self) -> str:
        return f"{self.secret} ({self.form}) in {self.where}: …{self.excerpt}"


@dataclass
class LeakLedger:
    """Session totals, for summaries (the fault suite prints its leaks from here)."""

    texts_scanned: int = 0
    findings: list[Finding] = field(default_factory=list)


# In-process test servers (aiosmtpd, the Personio sandbox, uvicorn, KMock) log what they receive; in
# production none of them runs in the operator's process, so their records are not the product's output.
TEST_SERVER_LOGGERS = (
    "mail.log",
    "uvicorn",
    "personio_testkit.personio_sandbox",
    "kmock",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
)


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[tuple[str, str]] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(TEST_SERVER_LOGGERS):
            return
        try:
            text = self.format(record)
        except Exception as error:  # a record that cannot be formatted is itself worth a look
            text = f"unformattable record {record.msg!r}: {error!r}"
        if record.stack_info:
            text += "\n" + str(record.stack_info)
        self.texts.append((f"log record {record.name} {record.levelname}", text))


class LeakCheck:
    """The secret values to look for and the texts to look in."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self._secrets: dict[str, str] = {}
        self._texts: list[tuple[str, str]] = []
        self._logs = _LogCapture()
        self._root_level: int | None = None
        self._quietened: list[tuple[logging.Handler, int]] = []
        for value, label in (secrets if secrets is not None else SUITE_SECRETS).items():
            self.add_secret(value, label)

    # --- what to look for ----------------------------------------------------------------------------

    def add_secret(self, value: str, label: str) -> None:
        """A value that must never come out, e.g. an access token a server issued (an Authorization value)."""
        if value and value not in self._secrets:
            self._secrets[value] = label

    def add_authorization(self, header_value: str, label: str) -> None:
        """An ``Authorization`` header value as sent, and the credential in it."""
        self.add_secret(header_value, f"Authorization header ({label})")
        credential = header_value.partition(" ")[2].strip()
        if credential:
            self.add_secret(credential, label)

    @property
    def secret_count(self) -> int:
        return len(self._secrets)

    # --- where to look -------------------------------------------------------------------------------

    def feed(self, where: str, text: Any) -> None:
        self._texts.append((where, text if isinstance(text, str) else str(text)))

    def feed_report(self, report: BaseModel, where: str = "run report") -> None:
        """A run report as ``--json`` prints it and status history stores it (plan text included)."""
        self.feed(f"{where} (JSON)", report.model_dump_json(by_alias=True))
        plan = getattr(report, "plan", None)
        if plan is not None:
            self.feed(f"{where} (plan)", plan.model_dump_json())

    def feed_json(self, where: str, data: Any) -> None:
        self.feed(where, json.dumps(data, ensure_ascii=False, default=str))

    def feed_exception(self, error: BaseException, where: str = "exception") -> None:
        self.feed(f"{where} {type(error).__name__}", "".join(traceback.format_exception(error)))

    def feed_mail(self, message: EmailMessage, where: str = "e-mail") -> None:
        """The message as sent (headers, transfer-encoded body) and its decoded text."""
        self.feed(f"{where} to {message.get('To')}", message.as_string())
        body = message.get_body(("plain", "html"))
        if body is not None:
            self.feed(f"{where} to {message.get('To')} (decoded)", body.get_content())

    def feed_kmock(self, cluster: Any, *, operator_token: str = "test-token") -> None:
        """Every request the operator sent to KMock (status patches, Events...) and what KMock holds
        afterwards, Secrets left out (the test put them there)."""
        for request in list(cluster):
            sent_by_operator = request.headers.get("Authorization", "") == f"Bearer {operator_token}"
            if sent_by_operator and (request.body or request.params):
                self.feed(f"KMock request {request.method} {request.url.path}", f"{request.params} {request.text}")
        for _, obj in cluster.objects.items():
            raw = obj.raw
            if raw.get("kind") != "Secret":
                self.feed_json(f"KMock object {raw.get('kind')} {raw.get('metadata', {}).get('name')}", raw)

    def capture_logs(self) -> None:
        """Every record of the process at DEBUG comes here; pytest's own report of a failed test keeps
        showing WARNING and above (the DEBUG trace of a run is thousands of lines)."""
        root = logging.getLogger()
        self._root_level = root.level
        for handler in root.handlers:
            if isinstance(handler, LogCaptureHandler) and handler.level < logging.WARNING:
                self._quietened.append((handler, handler.level))
                handler.setLevel(logging.WARNING)
        root.setLevel(logging.DEBUG)
        root.addHandler(self._logs)

    def release_logs(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self._logs)
        for handler, level in self._quietened:
            handler.setLevel(level)
        self._quietened.clear()
        if self._root_level is not None:
            root.setLevel(self._root_level)
            self._root_level = None

    @property
    def texts_scanned(self) -> int:
        return len(self._texts) + len(self._logs.texts)

    # --- the check -----------------------------------------------------------------------------------

    def findings(self) -> list[Finding]:
        """One finding per secret and text: the first of its forms that occurs there."""
        forms = {value: list(_forms(value)) for value in self._secrets}
        found: list[Finding] = []
        for where, text in self._all_texts():
            for value, label in self._secrets.items():
                for name, form in forms[value]:
                    position = text.find(form)
                    if position >= 0:
                        found.append(Finding(label, name, where, self._excerpt(text, position, form)))
                        break
        return found

    def assert_clean(self) -> None:
        found = self.findings()
        if found:
            shown = "\n".join(f"  - {finding}" for finding in found[:20])
            more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
            pytest.fail(f"secret leak: {len(found)} occurrence(s) of a credential\n{shown}{more}", pytrace=False)

    def _all_texts(self) -> Iterator[tuple[str, str]]:
        yield from self._texts
        yield from self._logs.texts

    def _excerpt(self, text: str, position: int, form: str) -> str:
        """What precedes the finding (known forms masked); nothing after it, where the rest of a cut
        value would show."""
        piece = text[max(0, position - _EXCERPT) : position]
        for value, label in self._secrets.items():
            for name, other in _forms(value):
                piece = piece.replace(other, f"<{label}, {name}>")
        return " ".join(piece.split()) + " <here>"


def _forms(value: str) -> Iterable[tuple[str, str]]:
    """The distinct forms of a value, the raw one first."""
    seen: set[str] = set()
    for name, form in encoded_forms(value).items():
        if form not in seen:
            seen.add(form)
            yield name, form


_ledger = LeakLedger()


def leak_ledger() -> LeakLedger:
    """The session's totals (texts scanned, findings of every test that used ``leak_check``)."""
    return _ledger


@pytest.fixture
def leak_check() -> Iterator[LeakCheck]:
    """A LeakCheck with the suite's secrets, capturing the process's logs at DEBUG; the test fails at
    teardown when anything it captured or was fed holds a secret."""
    check = LeakCheck()
    check.capture_logs()
    try:
        yield check
    finally:
        check.release_logs()
    found = check.findings()
    _ledger.texts_scanned += check.texts_scanned
    _ledger.findings += found
    check.assert_clean()
