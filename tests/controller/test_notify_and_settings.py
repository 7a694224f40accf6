"""E-mail through a real SMTP server (with login from a Secret) and operator settings from the env."""

from __future__ import annotations

from datetime import UTC, datetime

import kopf
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from personio_operator.controller.events import describe_changes
from personio_operator.controller.kube import KubeApi
from personio_operator.controller.notify import FailureNotice, Mailer, NotificationError, compose
from personio_operator.controller.settings import OperatorSettings, SmtpSettings
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport, RunResult, Trigger
from personio_operator.target.plan import Counts
from tests.controller.conftest import MailSink, free_port

SMTP_PASSWORD = "smtp-password-do-not-leak"


def report() -> RunReport:
    now = datetime(2026, 11, 25, 4, tzinfo=UTC)
    return RunReport(
        id="r1",
        trigger=Trigger.SCHEDULED,
        started_by="schedule",
        started_at=now,
        completed_at=now,
        result=RunResult.FAILED,
        error="Personio rejected the client credentials: check the Secret",
        error_kind=ErrorKind.CONFIGURATION,
    )


@pytest.fixture
def smtp_with_login():
    logins: list[tuple[str, str]] = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == SMTP_PASSWORD)

    sink = MailSink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    yield sink, controller.port, logins
    controller.stop()


@pytest.fixture
async def kube(cluster):
    api = KubeApi()
    api.use(kopf.ConnectionInfo(server=str(cluster.url).rstrip("/"), scheme="Bearer", token="t"))
    yield api
    await api.aclose()


async def test_failure_mail_logs_in_with_the_secret_and_never_shows_it(api, kube, smtp_with_login):
    sink, port, logins = smtp_with_login
    await api.put_secret("smtp", {"username": "mailer", "password": SMTP_PASSWORD}, namespace="operators")
    settings = SmtpSettings(
        host="127.0.0.1", port=port, starttls=False, sender="op@acme.example", credentials_secret="smtp"
    )
    mailer = Mailer(settings, kube, "operators")
    notice = FailureNotice("tenant-acme", "acme", report(), how_to_resume="Fix the Secret.")
    await mailer.send_failure(notice, ["owner@acme.example", "it@acme.example"])

    assert logins == [("mailer", SMTP_PASSWORD)]
    [mail] = sink.messages
    assert mail["X-Envelope-To"] == "owner@acme.example, it@acme.example"
    text = mail.get_content()
    assert "Personio rejected the client credentials" in text
    assert "Automatic runs are paused" in text
    assert SMTP_PASSWORD not in str(mail)


def test_failure_mail_says_what_the_run_wrote_before_it_stopped():
    partial = report().model_copy(update={"users": Counts(created=2, unchanged=7), "teams": Counts(removed=1)})
    text = compose(FailureNotice("tenant-acme", "acme", partial, "Fix it."), sender="op@x", recipients=["o@x"])
    assert "Written before it stopped: users: 2 created; teams: 1 removed" in text.get_content()
    untouched = compose(FailureNotice("tenant-acme", "acme", report(), "Fix it."), sender="op@x", recipients=["o@x"])
    assert "Written before it stopped" not in untouched.get_content()


def test_changes_are_described_for_people_without_unchanged_objects():
    assert describe_changes(report()) == "no changes"
    changed = report().model_copy(update={"users": Counts(created=3, deactivated=1, unchanged=40)})
    assert describe_changes(changed) == "users: 3 created, 1 deactivated"


async def test_missing_smtp_secret_is_a_clear_error(kube):
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=free_port(), credentials_secret="nope"), kube, "operators")
    notice = FailureNotice("tenant-acme", "acme", report(), how_to_resume="")
    with pytest.raises(NotificationError, match="SMTP Secret 'nope' not found in namespace 'operators'"):
        await mailer.send_failure(notice, ["owner@acme.example"])


def test_settings_from_the_chart_environment():
    settings = OperatorSettings.from_env(
        {
            "PERSONIO_OPERATOR_SMTP_HOST": "smtp.acme.example",
            "PERSONIO_OPERATOR_SMTP_PORT": "2525",
            "PERSONIO_OPERATOR_SMTP_STARTTLS": "false",
            "PERSONIO_OPERATOR_SMTP_FROM": "hr-sync@acme.example",
            "PERSONIO_OPERATOR_SMTP_SECRET": "smtp",
            "PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS": "4",
            "PERSONIO_OPERATOR_METRICS_PORT": "9100",
            "PERSONIO_OPERATOR_NAMESPACES": "tenant-a, tenant-b,",
            "PERSONIO_OPERATOR_RUN_BUDGET_SECONDS": "600",
            "POD_NAMESPACE": "personio-operator",
        }
    )
    assert settings.smtp == SmtpSettings(
        host="smtp.acme.example", port=2525, starttls=False, sender="hr-sync@acme.example", credentials_secret="smtp"
    )
    assert settings.max_concurrent_runs == 4
    assert settings.metrics_port == 9100
    assert settings.namespaces == ("tenant-a", "tenant-b")
    assert settings.operator_namespace == "personio-operator"
    assert settings.run_budget_seconds == 600


def test_bad_setting_names_the_variable():
    with pytest.raises(ValueError, match="PERSONIO_OPERATOR_SMTP_PORT"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_SMTP_PORT": "smtp"})
    with pytest.raises(ValueError, match="PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS": "0"})
    with pytest.raises(ValueError, match="PERSONIO_OPERATOR_RUN_BUDGET_SECONDS"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_RUN_BUDGET_SECONDS": "-5"})
