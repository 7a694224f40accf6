"""E-mail to the integration's owners when a run fails (SMTP through aiosmtplib)."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from pydantic import SecretStr

from personio_operator.controller.events import describe_changes
from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.controller.settings import SmtpSettings
from personio_operator.redaction import redact
from personio_operator.sync.report import RunReport

log = logging.getLogger(__name__)


class NotificationError(Exception):
    """Sending failed; the message is safe to show (no credentials)."""


@dataclass(frozen=True)
class FailureNotice:
    """A failed run; every failed run pauses automatic runs (the seed's rule)."""

    namespace: str
    name: str
    report: RunReport
    how_to_resume: str


def compose(notice: FailureNotice, *, sender: str, recipients: list[str]) -> EmailMessage:
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
    def __init__(self, settings: SmtpSettings, kube: KubeApi, operator_namespace: str) -> None:
        self.settings = settings
        self.kube = kube
        self.operator_namespace = operator_namespace

    @property
    def enabled(self) -> bool:
        return bool(self.settings.host)

    async def send_failure(self, notice: FailureNotice, recipients: list[str]) -> None:
        """Raises NotificationError when the mail could not be sent."""
        if not self.enabled or not recipients:
            return
        message = compose(notice, sender=self.settings.sender, recipients=recipients)
        username, password = await self._credentials()
        try:
            await aiosmtplib.send(
                message,
                hostname=self.settings.host,
                port=self.settings.port,
                start_tls=self.settings.starttls,
                username=username,
                password=password.get_secret_value() if password else None,
                timeout=self.settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as err:
            raise NotificationError(
                f"could not send e-mail through {self.settings.host}:{self.settings.port}: {type(err).__name__}"
            ) from None
        log.info("Sent failure e-mail for %s/%s to %d recipient(s)", notice.namespace, notice.name, len(recipients))

    async def _credentials(self) -> tuple[str | None, SecretStr | None]:
        name = self.settings.credentials_secret
        if not name:
            return None, None
        try:
            secret = await self.kube.get_secret(self.operator_namespace, name)
        except KubeError as err:
            raise NotificationError(f"could not read the SMTP Secret {name!r}: {err}") from None
        if secret is None:
            raise NotificationError(f"SMTP Secret {name!r} not found in namespace {self.operator_namespace!r}")
        data = secret.get("data") or {}
        try:
            username = base64.b64decode(data["username"]).decode()
            password = SecretStr(base64.b64decode(data["password"]).decode())
        except (KeyError, ValueError):
            raise NotificationError(f"SMTP Secret {name!r} needs base64 keys 'username' and 'password'") from None
        return username, password
