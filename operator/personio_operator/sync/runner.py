"""One integration run: fetch -> desired -> plan -> guards -> apply -> report.

CONTRACT (used by the operator and the CLI): ``run_integration`` never raises for a SyncError;
it returns a RunReport with result Failed, ``error`` (safe, actionable text) and ``error_kind``.
It only raises asyncio.CancelledError. ``dry_run=True`` is the Test: stops after the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport, RunResult, Trigger
from personio_operator.sync.secrets import RunSecrets


async def run_integration(
    spec: PersonioIntegrationSpec,
    secrets: RunSecrets,
    *,
    trigger: Trigger,
    started_by: str,
    dry_run: bool = False,
    run_id: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunReport:
    started = now()
    return RunReport(
        id=run_id or uuid.uuid4().hex[:12],
        trigger=trigger,
        started_by=started_by,
        dry_run=dry_run,
        started_at=started,
        completed_at=now(),
        result=RunResult.FAILED,
        error="the sync engine is not built yet",
        error_kind=ErrorKind.CONFIGURATION,
    )
