"""E-mail to the integration's owners when a run fails (SMTP through aiosmtplib).

The recipients come from the spec, so from the tenant: each is checked as an e-mail address (no
CR/LF, no header tricks), at most ``MAX_RECIPIENTS`` are used, and every failure to compose or send
becomes a ``NotificationError`` with a safe message. The SMTP login is the operator's own (from its
environment, see ``SmtpSettings``), never read through the Kubernetes API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from personio_operator.controller.events import describe_changes
from personio_operator.controller.settings import ENV_PREFIX, SmtpSettings
from personio_operator.redaction import clean_untrusted, redact, remember_secret
from personio_operator.sync.rejections import listing, object_line
from personio_operator.sync.report import RunReport

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 20
_MAX_SHOWN_ADDRESS = 64
_MAX_SHOWN_PROBLEMS = 5
_MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit
_MAX_CREDENTIAL_FILE_BYTES = 4096
_MAX_SERVER_ANSWER = 300
NO_ADDRESSES = "spec.notifications.emails lists no address"


class NotificationError(Exception):
    """Composing or sending failed; the message is safe to show (no credentials, no raw tenant text)."""


@dataclass(frozen=True)
class FailureNotice:
    """A failed run; every failed run pauses automatic runs (the seed's rule)."""

    namespace: str
    name: str
    report: RunReport
    how_to_resume: str


@dataclass(frozen=True)
class Recipients:
    """The usable addresses (normalised, unique, at most MAX_RECIPIENTS) and why others were left out."""

    addresses: tuple[str, ...]
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """What became of a failure e-mail, for the caller to report."""

    sent_to: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    not_sent: str | None = None  # why nothing was sent (no addresses, no SMTP host, delivery failed)
    failed: bool = False  # sending was tried, or no address was usable: somebody should look

    @property
    def emailed(self) -> bool:
        return bool(self.sent_to)

    @property
    def problems(self) -> str | None:
        """Safe text for an Event when some addresses were left out, else None."""
        if not self.left_out:
            return None
        return "left out of spec.notifications.emails: " + "; ".join(self.left_out)

    def summary(self) -> str:
        """'e-mailed a@acme.example' (and who was left out, and why), or 'not e-mailed: <why>'."""
        if not self.sent_to:
            return f"not e-mailed: {self.not_sent or NO_ADDRESSES}"
        text = "e-mailed " + ", ".join(self.sent_to)
        return f"{text}; {self.problems}" if self.problems else text


def check_recipients(raw: Sequence[object]) -> Recipients:
    """Keep the valid addresses (normalised, first occurrence, at most MAX_RECIPIENTS); say why the rest went."""
    addresses: list[str] = []
    seen: set[str] = set()
    invalid: list[str] = []
    for entry in raw:
        address, problem = _normalised(entry)
        if address is None:
            invalid.append(problem)
        elif address.casefold() not in seen:
            seen.add(address.casefold())
            addresses.append(address)
    left_out = invalid[:_MAX_SHOWN_PROBLEMS]
    if len(invalid) > _MAX_SHOWN_PROBLEMS:
        left_out.append(f"{len(invalid) - _MAX_SHOWN_PROBLEMS} more invalid address(es)")
    if len(addresses) > MAX_RECIPIENTS:
        left_out.append(f"{len(addresses) - MAX_RECIPIENTS} address(es) beyond the first {MAX_RECIPIENTS}")
        addresses = addresses[:MAX_RECIPIENTS]
    return Recipients(tuple(addresses), tuple(left_out))


def _normalised(entry: object) -> tuple[str, str] | tuple[None, str]:
    """(the normalised address, "") or (None, why ``entry`` is no usable address, safe to show)."""
    if not isinstance(entry, str):
        return None, f"{_shown(entry)} (not text)"
    if len(entry) > _MAX_ADDRESS_LENGTH:
        return None, f"{_shown(entry)} (longer than {_MAX_ADDRESS_LENGTH} characters)"
    try:
        return validate_email(entry, check_deliverability=False).normalized, ""
    except EmailNotValidError as err:
        return None, f"{_shown(entry)} ({_reason(err)})"


def compose(notice: FailureNotice, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    report = notice.report
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"Personio sync failed and is paused: {notice.namespace}/{notice.name}"
    lines = [
        f"The Personio integration {notice.name} in namespace {notice.namespace} failed.",
        "",
        f"Run:        {report.id} ({report.trigger.value}, started by {report.started_by})",
        f"Started:    {report.started_at.isoformat()}",
        f"Error kind: {report.error_kind.value if report.error_kind else 'unknown'}",
        f"Error:      {report.error or 'no details'}",
    ]
    changes = describe_changes(report)
    if changes != "no changes":
        lines.append(f"Written before it stopped: {changes}")
    if report.rejected_objects:
        tolerated = f"; a run tolerates {report.rejection_limit}" if report.rejection_limit is not None else ""
        lines += ["", f"Rejected by the app ({report.rejected}{tolerated}):"]
        lines += [f"  - {line}" for line in listing([object_line(obj) for obj in report.rejected_objects])]
    lines += [
        "",
        "Automatic runs are paused, so the operator stops retrying until someone fixes this.",
        "",
        notice.how_to_resume,
        "",
        f"Details: kubectl describe personiointegration {notice.name} -n {notice.namespace}",
    ]
    message.set_content(redact("\n".join(lines)))
    return message


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        # Mask the SMTP password everywhere from start-up on, whatever path it could leak by.
        if settings.password is not None:
            remember_secret(settings.password.get_secret_value())
        if settings.password_file is not None:
            try:
                remember_secret(_read_credential_file(settings.password_file))
            except NotificationError as err:
                log.warning("SMTP login: %s", err)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.host)

    async def send_failure(self, notice: FailureNotice, recipients: Sequence[object]) -> Delivery:
        """Send the failure e-mail to the valid addresses among ``recipients``.

        Returns what happened (nothing is sent without recipients or without an SMTP host: ``not_sent``
        says why). Raises NotificationError when no address is valid or the e-mail could not be sent."""
        if not recipients:
            return Delivery()
        checked = check_recipients(recipients)
        if not self.enabled:
            return Delivery(left_out=checked.left_out, not_sent=f"no SMTP server configured ({ENV_PREFIX}SMTP_HOST)")
        if not checked.addresses:
            raise NotificationError("no valid address in spec.notifications.emails: " + "; ".join(checked.left_out))
        try:
            message = compose(notice, sender=self.settings.sender, recipients=checked.addresses)
        except (ValueError, TypeError) as err:
            raise NotificationError(f"could not compose the e-mail ({type(err).__name__}): check smtp.from") from None
        username, password = self._credentials()
        try:
            refused, _ = await aiosmtplib.send(
                message,
                hostname=self.settings.host,
                port=self.settings.port,
                start_tls=self.settings.starttls,
                username=username,
                password=password,
                timeout=self.settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, ValueError, TypeError, UnicodeError) as err:
            raise NotificationError(
                f"could not send e-mail through {self.settings.host}:{self.settings.port}: {type(err).__name__}"
                + _server_answer(err)
            ) from None
        log.info(
            "Sent failure e-mail for %s/%s to %d recipient(s)", notice.namespace, notice.name, len(checked.addresses)
        )
        refused_lines = tuple(
            f"{_shown(address)} (the SMTP server answered {_answer(answer.code, answer.message)})"
            for address, answer in refused.items()
        )
        sent_to = tuple(address for address in checked.addresses if address not in refused)
        return Delivery(sent_to=sent_to, left_out=checked.left_out + refused_lines)

    async def notify(self, notice: FailureNotice, recipients: Sequence[object]) -> Delivery:
        """Like :meth:`send_failure`, but a failure is an outcome too: ``not_sent`` says what went wrong."""
        try:
            return await self.send_failure(notice, recipients)
        except NotificationError as err:
            log.warning("Failure e-mail for %s/%s not sent: %s", notice.namespace, notice.name, err)
            return Delivery(not_sent=str(err), failed=True)

    def _credentials(self) -> tuple[str | None, str | None]:
        """The SMTP login, read from its files at each send so that a rotated Secret is picked up."""
        settings = self.settings
        username = settings.username
        if settings.username_file is not None:
            username = _read_credential_file(settings.username_file)
        password = settings.password.get_secret_value() if settings.password is not None else None
        if settings.password_file is not None:
            password = _read_credential_file(settings.password_file)
            remember_secret(password)
        if (username is None) != (password is None):
            raise NotificationError("the SMTP login needs both a username and a password: set both, or neither")
        return username, password


def _read_credential_file(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_CREDENTIAL_FILE_BYTES + 1)
        if len(data) > _MAX_CREDENTIAL_FILE_BYTES:
            raise NotificationError(f"the SMTP credential file {path} is over {_MAX_CREDENTIAL_FILE_BYTES} bytes")
        value = data.decode("utf-8").strip()
    except OSError as err:
        raise NotificationError(f"could not read the SMTP credential file {path}: {type(err).__name__}") from None
    except UnicodeDecodeError:
        raise NotificationError(f"the SMTP credential file {path} is not UTF-8 text") from None
    if not value:
        raise NotificationError(f"the SMTP credential file {path} is empty")
    return value


def _server_answer(err: BaseException) -> str:
    """': <the SMTP server's reply>' for a refusal, cleaned and bounded; '' when there was none."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        answers = [_answer(refusal.code, refusal.message) for refusal in err.recipients[:3]]
        return ": " + clean_untrusted("; ".join(answers), _MAX_SERVER_ANSWER) if answers else ""
    if isinstance(err, aiosmtplib.SMTPResponseException):
        return ": " + _answer(err.code, err.message)
    if isinstance(err, aiosmtplib.SMTPException) and err.message:
        return ": " + clean_untrusted(err.message, _MAX_SERVER_ANSWER)
    return ""


def _answer(code: int, message: str) -> str:
    return clean_untrusted(f"{code} {message}", _MAX_SERVER_ANSWER)


def _shown(value: object) -> str:
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    cut = value[:_MAX_SHOWN_ADDRESS] + ("..." if len(value) > _MAX_SHOWN_ADDRESS else "")
    return repr(cut)  # escapes CR/LF, controls, zero-width and bidi characters


def _reason(err: EmailNotValidError) -> str:
    """email-validator's explanation, which may quote the offending characters: cleaned and cut short."""
    text = str(err)
    return text if text.isprintable() and len(text) <= 120 else "not a valid e-mail address"
