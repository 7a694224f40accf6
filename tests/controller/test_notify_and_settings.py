"""E-mail through a real SMTP server (with the login from files the chart mounts) and operator settings
from the env."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from personio_operator.api.run import RunResult, TeamCounts, Trigger, UserCounts
from personio_operator.controller.events import describe_changes
from personio_operator.controller.notify import FailureNotice, Mailer, NotificationError, compose
from personio_operator.controller.settings import OperatorSettings, SmtpSettings
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport
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


def login_files(tmp_path, username: str = "mailer", password: str = SMTP_PASSWORD) -> dict:
    (tmp_path / "username").write_text(username + "\n")
    (tmp_path / "password").write_text(password + "\n")
    return {"username_file": tmp_path / "username", "password_file": tmp_path / "password"}


async def test_failure_mail_logs_in_with_the_mounted_files_and_never_shows_it(tmp_path, smtp_with_login):
    sink, port, logins = smtp_with_login
    files = login_files(tmp_path)
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example", **files)
    mailer = Mailer(settings)
    notice = FailureNotice("tenant-acme", "acme", report(), how_to_resume="Fix the Secret.")
    delivery = await mailer.send_failure(notice, ["owner@acme.example", "it@acme.example"])

    assert logins == [("mailer", SMTP_PASSWORD)]
    assert delivery.sent_to == ("owner@acme.example", "it@acme.example") and delivery.problems is None
    [mail] = sink.messages
    assert mail["X-Envelope-To"] == "owner@acme.example, it@acme.example"
    text = mail.get_content()
    assert "Personio rejected the client credentials" in text
    assert "Automatic runs are paused" in text
    assert SMTP_PASSWORD not in str(mail)


async def test_a_rotated_smtp_password_is_used_at_the_next_send(tmp_path, smtp_with_login):
    sink, port, logins = smtp_with_login
    files = login_files(tmp_path, password="an-old-password")
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False, **files))
    notice = FailureNotice("tenant-acme", "acme", report(), how_to_resume="")
    with pytest.raises(NotificationError, match=r"could not send e-mail through 127\.0\.0\.1"):
        await mailer.send_failure(notice, ["owner@acme.example"])
    files["password_file"].write_text(SMTP_PASSWORD)  # the kubelet updates the mounted Secret
    await mailer.send_failure(notice, ["owner@acme.example"])
    assert [password for _, password in logins] == ["an-old-password", SMTP_PASSWORD]
    assert len(sink.messages) == 1


async def test_an_unreadable_smtp_login_file_is_a_clear_error(tmp_path):
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), **login_files(tmp_path))
    (tmp_path / "password").unlink()
    notice = FailureNotice("tenant-acme", "acme", report(), how_to_resume="")
    with pytest.raises(NotificationError, match=r"could not read the SMTP credential file .*password"):
        await Mailer(settings).send_failure(notice, ["owner@acme.example"])


def test_failure_mail_says_what_the_run_wrote_before_it_stopped():
    partial = report().model_copy(update={"users": UserCounts(created=2, unchanged=7), "teams": TeamCounts(removed=1)})
    text = compose(FailureNotice("tenant-acme", "acme", partial, "Fix it."), sender="op@x", recipients=["o@x"])
    assert "Written before it stopped: users: 2 created; teams: 1 removed" in text.get_content()
    untouched = compose(FailureNotice("tenant-acme", "acme", report(), "Fix it."), sender="op@x", recipients=["o@x"])
    assert "Written before it stopped" not in untouched.get_content()


def test_changes_are_described_for_people_without_unchanged_objects():
    assert describe_changes(report()) == "no changes"
    changed = report().model_copy(update={"users": UserCounts(created=3, deactivated=1, unchanged=40)})
    assert describe_changes(changed) == "users: 3 created, 1 deactivated"


def test_settings_from_the_chart_environment():
    settings = OperatorSettings.from_env(
        {
            "PERSONIO_OPERATOR_SMTP_HOST": "smtp.acme.example",
            "PERSONIO_OPERATOR_SMTP_PORT": "2525",
            "PERSONIO_OPERATOR_SMTP_STARTTLS": "false",
            "PERSONIO_OPERATOR_SMTP_FROM": "hr-sync@acme.example",
            "PERSONIO_OPERATOR_SMTP_USERNAME_FILE": "/etc/personio-operator/smtp/username",
            "PERSONIO_OPERATOR_SMTP_PASSWORD_FILE": "/etc/personio-operator/smtp/password",
            "PERSONIO_OPERATOR_SECRET_NAMES": "personio-credentials, scim-token",
            "PERSONIO_OPERATOR_SECRET_LABEL": "hrsync.dev/personio-operator=allowed",
            "PERSONIO_OPERATOR_DISCOVERY": "true",
            "PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS": "4",
            "PERSONIO_OPERATOR_METRICS_PORT": "9100",
            "PERSONIO_OPERATOR_NAMESPACES": "tenant-a, tenant-b,",
            "PERSONIO_OPERATOR_RUN_BUDGET_SECONDS": "600",
            "POD_NAMESPACE": "personio-operator",
        }
    )
    assert settings.smtp == SmtpSettings(
        host="smtp.acme.example",
        port=2525,
        starttls=False,
        sender="hr-sync@acme.example",
        username_file=Path("/etc/personio-operator/smtp/username"),
        password_file=Path("/etc/personio-operator/smtp/password"),
    )
    assert settings.secret_access.allowed_names == {"personio-credentials", "scim-token"}
    assert settings.secret_access.label == ("hrsync.dev/personio-operator", "allowed")
    assert settings.discovery is True
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
    with pytest.raises(ValueError, match=r"PERSONIO_OPERATOR_SECRET_NAMES: .*not valid Secret names: '\.\./x'"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_SECRET_NAMES": "ok,../x"})
    with pytest.raises(ValueError, match=r"PERSONIO_OPERATOR_SECRET_LABEL: .*key=value"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_SECRET_LABEL": "hrsync.dev/personio-operator"})
    with pytest.raises(ValueError, match="PERSONIO_OPERATOR_DISCOVERY"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_DISCOVERY": "perhaps"})
    with pytest.raises(ValueError, match=r"PERSONIO_OPERATOR_SMTP_\*: .*password or a file holding it, not both"):
        OperatorSettings.from_env(
            {"PERSONIO_OPERATOR_SMTP_PASSWORD": "x", "PERSONIO_OPERATOR_SMTP_PASSWORD_FILE": "/p"}
        )


def test_the_retired_smtp_secret_variable_is_refused_rather_than_ignored():
    """An old install that still sets it would otherwise send e-mail without its login, silently."""
    with pytest.raises(ValueError, match=r"PERSONIO_OPERATOR_SMTP_SECRET is no longer read.*SMTP_PASSWORD_FILE"):
        OperatorSettings.from_env({"PERSONIO_OPERATOR_SMTP_SECRET": "smtp"})


def test_no_pod_namespace_means_no_operator_namespace():
    assert OperatorSettings.from_env({}).operator_namespace is None
