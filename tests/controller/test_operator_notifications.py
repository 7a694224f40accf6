"""Operator in the loop: every failed run says whether its owners were e-mailed, and if not, why.

Each integration below fails its activation run (it names Secrets that do not exist); its history entry
and its RunFailed Event carry the outcome of the failure e-mail, sent through a real SMTP server
(aiosmtpd) that refuses one mailbox, or through none at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from personio_operator.controller.settings import SmtpSettings
from tests.controller.conftest import MailSink, free_port
from tests.controller.harness import Api, eventually, fast_settings, running_operator
from tests.controller.test_operator_failures import spec

GONE = "gone@acme.example"
REFUSAL = "5.1.1 <gone@acme.example>: Recipient address rejected: mailbox unavailable"


class RefusingSink(MailSink):
    """Accepts mail for every mailbox but one."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address == GONE:
            return f"550 {REFUSAL}"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[RefusingSink, int]]:
    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def failed_with_event(api: Api, name: str):
    async def probe() -> dict[str, Any] | None:
        history = (await api.status(name)).get("history") or []
        events = [e for e in api.events(name) if e["reason"] == "RunFailed"]
        return {"entry": history[0], "event": events[0]} if history and events else None

    return probe


async def test_each_failed_run_says_whether_the_owners_were_emailed(cluster, api, clock, refusing_smtp):
    sink, port = refusing_smtp
    smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="operator@acme.example")
    owners = {
        "mailed": ["owner@acme.example"],
        "refused": [GONE],
        "partly": ["owner@acme.example", GONE],
        "nobody": [],
    }
    async with running_operator(cluster, fast_settings(smtp=smtp), clock):
        for name, emails in owners.items():
            await api.create_integration(name, spec(notifications={"emails": emails}))
        outcome = {name: await eventually(failed_with_event(api, name), what=name) for name in owners}
        await eventually(lambda: len(sink.messages) == 2, what="the two e-mails that could be delivered")

    mailed, refused, partly, nobody = (outcome[name] for name in owners)
    assert mailed["entry"]["notification"] == {"emailed": True, "message": "e-mailed owner@acme.example"}
    assert mailed["event"]["message"].startswith(f"Run {mailed['entry']['id']} failed; owners e-mailed owner@acme.")

    assert refused["entry"]["notification"]["emailed"] is False
    message = refused["entry"]["notification"]["message"]
    assert message.startswith("not e-mailed: could not send e-mail through 127.0.0.1:")
    assert f"550 {REFUSAL}" in message
    assert "owners not e-mailed: could not send" in refused["event"]["message"]
    assert "NotificationFailed" in api.reasons("refused")

    assert partly["entry"]["notification"]["emailed"] is True
    assert partly["entry"]["notification"]["message"].startswith("e-mailed owner@acme.example; left out of")
    assert f"'{GONE}' (the SMTP server answered 550 {REFUSAL})" in partly["entry"]["notification"]["message"]

    assert nobody["entry"]["notification"] == {
        "emailed": False,
        "message": "not e-mailed: spec.notifications.emails lists no address",
    }
    assert "owners not e-mailed: spec.notifications.emails lists no address" in nobody["event"]["message"]
    assert "NotificationFailed" not in api.reasons("nobody")
    assert sorted(m["X-Envelope-To"] for m in sink.messages) == ["owner@acme.example", "owner@acme.example"]


async def test_without_an_smtp_server_the_failed_run_says_so(cluster, api, clock):
    async with running_operator(cluster, fast_settings(), clock):  # no PERSONIO_OPERATOR_SMTP_HOST
        await api.create_integration("acme", spec())
        outcome = await eventually(failed_with_event(api, "acme"), what="the failed run")

    assert outcome["entry"]["notification"] == {
        "emailed": False,
        "message": "not e-mailed: no SMTP server configured (PERSONIO_OPERATOR_SMTP_HOST)",
    }
    assert "owners not e-mailed: no SMTP server configured" in outcome["event"]["message"]
    assert outcome["event"]["type"] == "Warning"
