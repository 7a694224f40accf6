"""The fault suite's summary: one line at the end of any session that ran fault tests, alone
(``pytest tests/faults``) or as part of the whole suite, and a failed session unless lost objects,
wrong deactivations, duplicates, requests over the bound and secret leaks are all 0."""

from __future__ import annotations

import pytest

from tests.controller.conftest import api, clock, cluster, kmock_options, smtp  # noqa: F401
from tests.faults.ledger import LEDGER, suite_seed


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    if not LEDGER.records:
        return
    terminalreporter.section("fault suite")
    if config.get_verbosity() > 0 or any(not record.survived for record in LEDGER.records):
        for record in LEDGER.records:
            terminalreporter.write_line(record.line())
    terminalreporter.write_line(f"seed {suite_seed()} (FAULT_SEED={suite_seed()} reproduces it)")
    terminalreporter.write_line(LEDGER.summary())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if LEDGER.failing() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
