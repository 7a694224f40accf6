"""The failure e-mail cannot be turned against anyone, and never fails with a traceback.

Promises pinned here (a real SMTP server, aiosmtpd, receives what the notifier sends):
- a notification address with CR/LF (header injection) or any invalid address is left out, the
  others still get the e-mail, and the text for the Event says which were left out, escaped; in a
  cluster such a spec is reported as invalid and nobody is mailed, without a traceback;
- at most MAX_RECIPIENTS addresses get an e-mail however many the spec lists;
- every failure to compose or send is a NotificationError with a safe message;
- no SMTP host: nothing is sent and the caller is told why;
- the SMTP password is masked in every redacted text from start-up on, and the operator never asks
  the Kubernetes API for it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from personio_operator.api.run import RunResult, Trigger
from personio_operator.controller.notify import MAX_RECIPIENTS, FailureNotice, Mailer, NotificationError
from personio_operator.controller.settings import SmtpSettings
from personio_operator.errors import ErrorKind
from personio_operator.redaction import redact
from personio_operator.sync.report import RunReport
from tests.controller.conftest import *  # noqa: F403 - its fixtures: cluster, api, clock, smtp
from tests.controller.conftest import free_port
from tests.controller.harness import eventually, fast_settings, running_operator
from tests.controller.test_operator_failures import spec

INJECTION = "owner@acme.example\r\nBcc: victim@globex.example"


def notice() -> FailureNotice:
    now = datetime(2026, 11, 25, 4, tzinfo=UTC)
    report = RunReport(
        id="r1",
        trigger=Trigger.SCHEDULED,
        started_by="schedule",
        started_at=now,
        completed_at=now,
        result=RunResult.FAILED,
        error="Personio rejected the client credentials",
        error_kind=ErrorKind.CONFIGURATION,
    )
    return FailureNotice("tenant-acme", "acme", report, how_to_resume="Fix it.")


def mailer(port: int, **settings: object) -> Mailer:
    return Mailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example", **settings))


async def test_a_crlf_address_is_left_out_and_cannot_add_a_recipient(smtp):
    sink, port = smtp
    delivery = await mailer(port).send_failure(notice(), [INJECTION, "it@acme.example", "a..b@acme.example"])

    [mail] = sink.messages
    assert mail["X-Envelope-To"] == "it@acme.example"
    assert "globex" not in str(mail) and mail["Bcc"] is None
    assert delivery.sent_to == ("it@acme.example",)
    assert delivery.problems is not None
    assert "\r" not in delivery.problems and "\n" not in delivery.problems
    assert repr(INJECTION) in delivery.problems and "'a..b@acme.example'" in delivery.problems


@pytest.mark.parametrize(
    "address",
    [
        INJECTION,
        "a@b",
        "x@localhost",
        "a@[127.0.0.1]",
        "dot@acme.example.",
        "<script>@acme.example",
        "nul\x00@acme.example",
        "zero\u200bwidth@acme.example",
        "bidi\u202e@acme.example",
        "x" * 300 + "@acme.example",
        "",
        42,
        None,
    ],
)
async def test_no_valid_address_is_a_notification_error_with_safe_text(smtp, address):
    sink, port = smtp
    with pytest.raises(NotificationError, match=r"no valid address in spec\.notifications\.emails") as failed:
        await mailer(port).send_failure(notice(), [address])
    text = str(failed.value)
    assert text.isprintable() and len(text) < 400, text
    assert sink.messages == []


async def test_recipients_are_capped_and_deduplicated(smtp):
    sink, port = smtp
    addresses = ["Owner@acme.example", "Owner@acme.example"] + [f"person{i}@acme.example" for i in range(10_000)]
    delivery = await mailer(port).send_failure(notice(), addresses)

    [mail] = sink.messages
    assert len(mail["X-Envelope-To"].split(", ")) == MAX_RECIPIENTS == len(delivery.sent_to)
    assert delivery.sent_to[0] == "Owner@acme.example" and delivery.sent_to[1] == "person0@acme.example"
    assert delivery.problems == "left out of spec.notifications.emails: 9981 address(es) beyond the first 20"


async def test_many_invalid_addresses_give_a_short_message(smtp):
    _, port = smtp
    with pytest.raises(NotificationError) as failed:
        await mailer(port).send_failure(notice(), [f"bad{i}@x" for i in range(10_000)])
    assert "9995 more invalid address(es)" in str(failed.value)
    assert len(str(failed.value)) < 1000


async def test_a_sender_that_breaks_the_headers_is_a_notification_error(smtp):
    _, port = smtp
    broken = Mailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example\r\nBcc: x@y"))
    with pytest.raises(NotificationError, match="could not compose the e-mail"):
        await broken.send_failure(notice(), ["owner@acme.example"])


async def test_an_unreachable_smtp_server_is_a_notification_error():
    with pytest.raises(NotificationError, match=r"could not send e-mail through 127\.0\.0\.1:\d+: \w+"):
        await mailer(free_port(), timeout_seconds=5).send_failure(notice(), ["owner@acme.example"])


async def test_without_an_smtp_host_nothing_is_sent_and_the_caller_is_told_why():
    delivery = await Mailer(SmtpSettings()).send_failure(notice(), ["owner@acme.example", INJECTION])
    assert delivery.sent_to == ()
    assert delivery.not_sent == "no SMTP server configured (PERSONIO_OPERATOR_SMTP_HOST)"
    assert delivery.problems is not None and repr(INJECTION) in delivery.problems
    assert (await Mailer(SmtpSettings()).send_failure(notice(), [])).not_sent is None


@pytest.mark.parametrize("source", ["value", "file"])
def test_the_smtp_password_is_masked_from_start_up(tmp_path, source):
    password = f"{source}-{uuid.uuid4().hex}"  # masking is process-wide: a value no other test used
    if source == "value":
        settings = SmtpSettings(host="smtp.acme.example", username="mailer", password=SecretStr(password))
    else:
        (tmp_path / "password").write_text(password + "\n")
        settings = SmtpSettings(host="smtp.acme.example", password_file=tmp_path / "password")
    assert password in redact(f"login failed for {password}"), "not masked before the operator starts"
    Mailer(settings)
    assert redact(f"login failed for {password}") == "login failed for ***"


async def test_a_hostile_address_in_a_cluster_spec_is_reported_and_mails_nobody(cluster, api, clock, smtp, caplog):
    """Operator in the loop: the spec with a CR/LF address is reported, nothing is sent, nothing crashes.
    (Addresses that get past the spec still meet the notifier's own check, pinned above.)"""
    sink, port = smtp
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example"))
    caplog.set_level(logging.WARNING)
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", spec(notifications={"emails": [INJECTION, "it@acme.example"]}))
        [event] = await eventually(
            lambda: [e for e in api.events("acme") if e["reason"] == "InvalidSpec"], what="the InvalidSpec Event"
        )

    assert "notifications.emails" in event["message"] and "\n" not in event["message"]
    assert sink.messages == []
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    assert [request for request in list(cluster) if request.namespace == "operators"] == []
