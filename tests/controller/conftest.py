"""Fixtures of the controller tests: KMock cluster, a hand-set clock, a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import kmock
import pytest
from aiosmtpd.controller import Controller

from personio_operator.controller.clock import ManualClock
from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from tests.controller.emulator import RealisticEmulator
from tests.controller.harness import Api, declare_resources

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def kmock_options() -> dict:
    return {"cls": RealisticEmulator}


@pytest.fixture
def cluster(kmock: kmock.KubernetesEmulator) -> kmock.KubernetesEmulator:
    declare_resources(kmock)
    return kmock


@pytest.fixture
async def api(cluster: kmock.KubernetesEmulator) -> AsyncIterator[Api]:
    client = Api(cluster)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


class MailSink:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture
async def personio() -> AsyncIterator[SandboxServer]:
    """The Personio sandbox: the real API over HTTP on 127.0.0.1, a 20-person company."""
    async with SandboxServer(generate_company(employees=20, seed=1), SandboxConfig(rate_limits=False)) as server:
        yield server
