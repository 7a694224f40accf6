"""One integration run: fetch -> desired -> plan -> guards -> apply -> report.

CONTRACT (used by the operator and the CLI): ``run_integration`` never raises for a SyncError;
it returns a RunReport with result Failed, ``error`` (safe, actionable text) and ``error_kind``.
It only raises asyncio.CancelledError. ``dry_run=True`` is the Test: stops after the plan (and the
guards), writes nothing, and fills ``report.test`` and ``report.plan_text``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.errors import ErrorKind, SyncError
from personio_operator.personio.client import PersonioClient
from personio_operator.personio.models import FetchResult
from personio_operator.redaction import redact_model
from personio_operator.sync.attributes import requested_attributes
from personio_operator.sync.counting import count, planned_objects
from personio_operator.sync.desired import DesiredBuild, build_desired
from personio_operator.sync.naming import check_templates
from personio_operator.sync.render import render_plan
from personio_operator.sync.report import ObjectResult, RunReport, RunResult, TestResult, Trigger, WarningSummary
from personio_operator.sync.safety import check_deactivations, check_fetch, check_not_empty
from personio_operator.sync.secrets import RunSecrets
from personio_operator.sync.tailor import fit_desired, tailor_plan
from personio_operator.target.applier import apply_plan
from personio_operator.target.client import ScimClient
from personio_operator.target.models import TargetState
from personio_operator.target.plan import TargetPlan
from personio_operator.target.planner import plan_target

log = logging.getLogger(__name__)

MAX_WARNINGS = 200  # a report is stored in the CR's status; the rest is summarised in one line
# Personio v2 needs one employments call per person at ~30 requests/s: 10,000 people take ~6 minutes
# by the rate limits alone, so each side gets 30 minutes before the run gives up (nothing half-read is used).
DEFAULT_BUDGET_SECONDS = 1800.0


@dataclass
class _Progress:
    """What the run has learnt so far, so a failure still reports it."""

    test: TestResult = field(default_factory=TestResult)
    warnings: list[str] = field(default_factory=list)
    plan: TargetPlan | None = None
    plan_text: str | None = None
    objects: list[ObjectResult] = field(default_factory=list)


async def run_integration(
    spec: PersonioIntegrationSpec,
    secrets: RunSecrets,
    *,
    trigger: Trigger,
    started_by: str,
    dry_run: bool = False,
    run_id: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
) -> RunReport:
    """``budget_seconds`` bounds each side (Personio, the app): retries stop and the run fails once it is spent."""
    report = RunReport(
        id=run_id or uuid.uuid4().hex[:12],
        trigger=trigger,
        started_by=started_by,
        dry_run=dry_run,
        started_at=now(),
    )
    progress = _Progress()
    try:
        await _run(spec, secrets, dry_run, progress, budget_seconds)
    except SyncError as err:
        report.result, report.error, report.error_kind = RunResult.FAILED, err.message, err.kind
    except Exception as err:  # a bug must not stop the operator; the traceback goes to the log only
        log.exception("run %s failed unexpectedly", report.id)
        report.result = RunResult.FAILED
        report.error = f"internal error ({type(err).__name__}); see the operator log, nothing more was changed"
        report.error_kind = ErrorKind.TRANSIENT
    _finish(report, progress, dry_run)
    report = redact_model(report)  # error, objects, warnings, plan text: once more, whatever built them
    report.completed_at = now()
    log.info(
        "run %s (%s by %s) %s: users %s, teams %s",
        report.id,
        trigger.value,
        started_by,
        report.result.value,
        report.users.model_dump(),
        report.teams.model_dump(),
    )
    return report


async def _run(
    spec: PersonioIntegrationSpec, secrets: RunSecrets, dry_run: bool, progress: _Progress, budget_seconds: float
) -> None:
    check_templates(spec.teams.name_templates)
    fetched = await _fetch(spec, secrets, progress, budget_seconds)
    check_fetch(fetched, spec)
    requested = requested_attributes(spec)
    build = build_desired(fetched.employees, spec, available=requested - set(fetched.missing_attributes))
    progress.warnings += build.warnings

    ref = spec.target.scim.credentials_secret_ref
    async with ScimClient(
        spec.target.scim.url,
        secrets.scim_token,
        max_concurrency=spec.target.scim.max_concurrency,
        budget_seconds=budget_seconds,
        token_hint=f"key {ref.key!r} of Secret {ref.name!r}",
    ) as scim:
        await scim.discover()
        current = await scim.read_state()
        progress.test.target_reachable = True
        plan = _plan(build, current, progress)
        check_not_empty(fetched, plan.managed_users_before)
        check_deactivations(plan, spec)
        if dry_run or plan.is_empty:
            return
        finished: list[ObjectResult] = []
        try:
            progress.objects = await apply_plan(
                scim, plan, state=current, concurrency=spec.target.scim.max_concurrency, finished=finished
            )
        except SyncError:
            progress.objects = finished  # what was written before the fatal error still counts
            raise
        finally:
            log.info("applied plan: SCIM requests %s", scim.stats.as_dict())
    _raise_for_failed_objects(progress.objects)


async def _fetch(
    spec: PersonioIntegrationSpec, secrets: RunSecrets, progress: _Progress, budget_seconds: float
) -> FetchResult:
    ref = spec.personio.credentials_secret_ref
    async with PersonioClient(
        spec.personio,
        secrets.personio_client_id,
        secrets.personio_client_secret,
        budget_seconds=budget_seconds,
        credentials_hint=f"Secret {ref.name!r}",
    ) as personio:
        fetched = await personio.fetch_employees(set(requested_attributes(spec)))
    progress.test.personio_reachable = True
    progress.test.employees_fetched = len(fetched.employees)
    progress.test.missing_attributes = sorted(a.value for a in fetched.missing_attributes)
    progress.warnings += fetched.warnings
    return fetched


def _plan(build: DesiredBuild, current: TargetState, progress: _Progress) -> TargetPlan:
    plan = tailor_plan(plan_target(fit_desired(build, current), current), build)
    names = {user.external_id: user.user_name for user in current.users if user.external_id}
    names.update({user.external_id: user.user_name for user in build.state.users})
    progress.plan = plan
    progress.plan_text = render_plan(plan, names, warnings=progress.warnings)
    progress.warnings += plan.warnings
    return plan


def _raise_for_failed_objects(objects: list[ObjectResult]) -> None:
    failed = [obj for obj in objects if not obj.ok]
    if not failed:
        return
    first = failed[0]
    raise SyncError(
        f"{len(failed)} of {len(objects)} changes failed, the others were applied (first: {first.kind} "
        f"{first.action} {first.name}: {first.error}). The failed ones are listed per object; fix them in the "
        "app or in Personio and run again.",
        kind=ErrorKind.DATA,
    )


SUMMARY_EXAMPLES = 5


def summarize_warnings(warnings: list[str]) -> WarningSummary:
    return WarningSummary(
        total=len(warnings), by_kind={"Other": len(warnings)} if warnings else {}, first=warnings[:SUMMARY_EXAMPLES]
    )


def _finish(report: RunReport, progress: _Progress, dry_run: bool) -> None:
    warnings = progress.warnings
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[:MAX_WARNINGS], f"... and {len(warnings) - MAX_WARNINGS} more warnings"]
    report.warnings = warnings
    report.warning_summary = summarize_warnings(progress.warnings)
    report.plan_text = progress.plan_text
    report.plan = progress.plan
    if dry_run:
        report.test = progress.test
    if progress.plan is None:
        return
    # A Test counts what a run would do; a run counts what it did (nothing when a guard stopped it).
    objects = planned_objects(progress.plan) if dry_run else progress.objects
    report.users, report.teams = count(objects, progress.plan)
    if not dry_run:
        report.objects = sorted(objects, key=lambda obj: obj.ok)
