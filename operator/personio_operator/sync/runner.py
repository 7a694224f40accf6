"""One integration run: fetch (and read the app alongside) -> desired -> plan -> guards -> apply -> report.

CONTRACT (used by the operator and the CLI): ``run_integration`` never raises for a SyncError or
any other exception; it returns a RunReport with result Failed, ``error`` (safe, actionable text)
and ``error_kind``. It only raises asyncio.CancelledError, after handing the report of the run cut
short (result Interrupted) to ``on_interrupted``. ``dry_run=True`` is the Test: stops after the
plan (and the guards), writes nothing, and fills ``report.test`` and ``report.plan_text``.

Whatever stops a run, its report lists every object it wrote or tried to write (``objects``, from
the applier's ``finished`` list, which is filled as each object is done), the counts are made from
them, and the error text says whether anything was changed.

Objects the app rejects on their own (a 4xx other than auth, a 5xx that persisted, or a payload that
fails the check before the first write) do not stop the others: the policy is in ``sync.rejections``.
Up to max(5, 1 % of the planned changes) rejections the run is Succeeded, with the rejected objects in
``report.objects`` (``rejected=True``) and counted in ``report.rejected``; beyond that the applier starts
nothing new and the run fails (kind Data, or Transient when the app only answered with server errors),
so that someone looks (in a cluster, the integration pauses). The next run tries rejected objects
again. People held for bad data in Personio are warnings, not failures.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from personio_operator.api.run import ObjectResult, RunResult, TestResult, Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.destinations import DestinationGuard, DestinationPolicy, Resolver, Side, resolve_host
from personio_operator.errors import ErrorKind, SafetyError, SyncError
from personio_operator.personio.client import PersonioClient
from personio_operator.personio.http import HttpPolicy
from personio_operator.personio.models import FetchResult
from personio_operator.redaction import redact_model
from personio_operator.run_warnings import HOLDING_KINDS, RunWarning, WarningKind, warning
from personio_operator.safe_text import shown
from personio_operator.scim.applier import TooManyRejections, apply_plan
from personio_operator.scim.client import ScimClient
from personio_operator.scim.discovery import ScimDialect
from personio_operator.scim.errors import ScimUnavailableError
from personio_operator.scim.models import DesiredState, TargetState, is_managed_external_id, person_id_of
from personio_operator.scim.plan import REASON_NOT_IN_PERSONIO, TargetPlan, UserAction
from personio_operator.scim.planner import plan_target
from personio_operator.sync.attributes import requested_attributes, wanted_user_fields
from personio_operator.sync.desired import DesiredBuild, build_desired
from personio_operator.sync.rejections import check_rejections, rejected, rejection_limit
from personio_operator.sync.render import render_plan
from personio_operator.sync.report import RunReport, WarningSummary
from personio_operator.sync.safety import check_deactivations, check_fetch, check_not_empty
from personio_operator.sync.secrets import RunSecrets
from personio_operator.sync.team_names import name_teams

log = logging.getLogger(__name__)

MAX_WARNINGS = 200  # a report is stored in the CR's status; the rest is summarised in one line
MAX_WARNING_LENGTH = 1000  # characters per warning line in the report
MAX_OBJECT_TEXT_LENGTH = 500  # characters of an object's name or error in the report
# Personio v2 needs one employments call per person at ~30 requests/s: 10,000 people take ~6 minutes
# by the rate limits alone, so each side gets 30 minutes before the run gives up (nothing half-read is used).
DEFAULT_BUDGET_SECONDS = 1800.0
# The app is read alongside Personio; a state older than this when Personio is done is read again.
APP_STATE_FRESH_SECONDS = 30.0
STRICT_DESTINATIONS = DestinationPolicy()  # Personio's own API host; the app at any public https URL


@dataclass
class _Progress:
    """What the run has learnt so far, so a failure still reports it."""

    test: TestResult = field(default_factory=TestResult)
    warnings: list[RunWarning] = field(default_factory=list)
    plan: TargetPlan | None = None
    plan_text: str | None = None
    app_limits: list[str] = field(default_factory=list)  # what the app does not take, in words
    objects: list[ObjectResult] = field(default_factory=list)  # filled by the applier as objects are done
    writing: bool = False  # the applier was started: the app may have changed
    written_all: bool = False  # the applier went through the whole plan
    planned: int = 0  # changes in the plan the applier was given


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
    on_interrupted: Callable[[RunReport], None] | None = None,
    destinations: DestinationPolicy = STRICT_DESTINATIONS,
    resolver: Resolver = resolve_host,
) -> RunReport:
    """``budget_seconds`` bounds each side (Personio, the app): retries stop and the run fails once it is spent.
    ``on_interrupted`` receives the report of a run that is cancelled, just before CancelledError propagates.
    ``destinations``: where credentials may go, checked before the first request and on every connection;
    ``resolver`` is the host-name lookup those checks and connections use."""
    report = RunReport(
        id=run_id or uuid.uuid4().hex[:12],
        trigger=trigger,
        started_by=started_by,
        dry_run=dry_run,
        started_at=now(),
    )
    progress = _Progress()
    try:
        await _run(spec, secrets, dry_run, progress, budget_seconds, DestinationGuard(destinations, resolver))
    except SyncError as err:
        report.result, report.error, report.error_kind = RunResult.FAILED, err.message, err.kind
        if progress.writing and not progress.written_all:
            report.error = f"{err.message.rstrip('.')}. {_changes_note(progress)}"
    except asyncio.CancelledError:
        report.result = RunResult.INTERRUPTED
        report.error = f"The run was stopped before it finished (the operator is stopping). {_changes_note(progress)}"
        report = _close(report, progress, dry_run, now())
        if on_interrupted is not None:
            on_interrupted(report)
        raise
    except Exception as err:  # a bug must not stop the operator; the traceback goes to the log only
        log.exception("run %s failed unexpectedly", report.id)
        report.result = RunResult.FAILED
        report.error = f"Internal error ({type(err).__name__}); see the operator log. {_changes_note(progress)}"
        report.error_kind = ErrorKind.TRANSIENT
    return _close(report, progress, dry_run, now())


def _close(report: RunReport, progress: _Progress, dry_run: bool, completed_at: datetime) -> RunReport:
    _finish(report, progress, dry_run)
    report = redact_model(report)  # error, objects, warnings, plan text: once more, whatever built them
    report.completed_at = completed_at
    log.info(
        "run %s (%s by %s) %s: users %s, teams %s",
        report.id,
        report.trigger.value,
        report.started_by,
        report.result.value,
        report.users.model_dump(),
        report.teams.model_dump(),
    )
    return report


def _changes_note(progress: _Progress) -> str:
    """What a run that stopped early changed, in words (never "nothing" when it wrote)."""
    if not progress.writing:
        return "Nothing was changed."
    objects = progress.objects
    written = sum(1 for obj in objects if obj.ok)
    refused = len(rejected(objects))
    attempted = len(objects) - written - refused
    if not objects:
        return "It stopped before any change was written."
    parts = f"{written} change{'' if written == 1 else 's'} written"
    if refused:
        parts += f", {refused} rejected"
    if attempted:
        parts += f", {attempted} failed (each one's error says whether the app may still have applied it)"
    return f"It stopped after {parts}; every one is listed per object. Run again to finish."


async def _run(
    spec: PersonioIntegrationSpec,
    secrets: RunSecrets,
    dry_run: bool,
    progress: _Progress,
    budget_seconds: float,
    guard: DestinationGuard,
) -> None:
    await guard.preflight(Side.PERSONIO, spec.personio.base_url)  # both, before any credential is sent
    await guard.preflight(Side.SCIM, spec.target.scim.url)

    ref = spec.target.scim.credentials_secret_ref
    async with (
        _app_deadline(budget_seconds) as app_clock,
        guard.client(Side.SCIM, max_connections=2 * spec.target.scim.max_concurrency) as http,
        ScimClient(
            spec.target.scim.url,
            secrets.scim_token,
            max_concurrency=spec.target.scim.max_concurrency,
            budget_seconds=budget_seconds,
            http=http,
            token_hint=f"key {ref.key!r} of Secret {ref.name!r}",
        ) as scim,
    ):
        reading = _AppReading(scim, app_clock)
        try:
            fetched = await _fetch(spec, secrets, progress, budget_seconds, guard, on_authenticated=reading.start)
            check_fetch(fetched, spec)
            dialect, current = await reading.result()
        finally:
            await reading.stop()
        progress.test.target_reachable = True
        progress.warnings += [warning(WarningKind.UNREADABLE_IN_APP, note) for note in scim.unreadable]
        available = requested_attributes(spec) - set(fetched.missing_attributes)
        # What is managed of each user is decided once, from the spec, Personio and the app together.
        build = build_desired(fetched.employees, spec, available=available, app=dialect.user_fields)
        progress.warnings += build.warnings
        progress.app_limits = dialect.limits(wanted_user_fields(spec, available))
        plan = _plan(build, current, progress)
        check_not_empty(fetched, plan.managed_users_before)
        check_deactivations(plan, spec)
        await _confirm_departures(spec, secrets, plan, budget_seconds, guard)
        if dry_run or plan.is_empty:
            return
        progress.writing = True
        progress.planned = _planned_changes(plan)
        stopped_early = False
        try:
            # The applier appends to progress.objects as each object is done, so whatever stops it, the
            # report still lists what was written; on success the list is replaced by the plan-ordered one.
            progress.objects = await apply_plan(
                scim,
                plan,
                state=current,
                concurrency=spec.target.scim.max_concurrency,
                finished=progress.objects,
                max_rejections=rejection_limit(progress.planned),
            )
            progress.written_all = True
        except TooManyRejections:
            stopped_early = True  # judged below, with every object it did write or try
        finally:
            log.info("applied plan: SCIM requests %s", scim.stats.as_dict())
    check_rejections(progress.objects, progress.planned, stopped_early=stopped_early)


async def _confirm_departures(
    spec: PersonioIntegrationSpec,
    secrets: RunSecrets,
    plan: TargetPlan,
    budget_seconds: float,
    guard: DestinationGuard,
) -> None:
    """Before deactivating people because Personio's list left them out, ask Personio for each of them.

    A list can come back short without saying so (a v2 page has no total): anyone Personio still
    knows proves the list was incomplete, and nothing is written rather than deactivating them.
    """
    left_out = [op for op in plan.users if op.action is UserAction.DEACTIVATE and op.reason == REASON_NOT_IN_PERSONIO]
    person_ids = {person_id_of(op.external_id): op for op in left_out}
    person_ids.pop(None, None)
    if not person_ids:
        return
    async with _personio_session(spec, secrets, budget_seconds, guard) as personio:
        still_there = await personio.people_still_in_personio(sorted(person_ids, key=str))
    if still_there:
        examples = ", ".join(f"Person {shown(person_id)}" for person_id in still_there[:5])
        raise SafetyError(
            f"Personio's list of people was incomplete: {len(still_there)} of the {len(person_ids)} people it left "
            f"out still exist in Personio ({examples}). Nothing was written, so nobody was deactivated by mistake; "
            "the next run reads the list again."
        )


class _AppClock:
    """The app side's time budget, spent only while the run waits on the app (reading it, writing to it),
    not while the app's state waits for Personio's list."""

    def __init__(self, deadline: asyncio.Timeout, seconds: float) -> None:
        self._deadline = deadline
        self._left = seconds
        self._since: float | None = None

    def run(self) -> None:
        if self._since is None and not self._deadline.expired():
            self._since = asyncio.get_running_loop().time()
            self._deadline.reschedule(self._since + self._left)

    def pause(self) -> None:
        if self._since is not None and not self._deadline.expired():
            self._left -= asyncio.get_running_loop().time() - self._since
            self._since = None
            self._deadline.reschedule(None)


@asynccontextmanager
async def _app_deadline(seconds: float) -> AsyncIterator[_AppClock]:
    """The app's side of a run, from discovery to the last write, ends within the run's budget for it:
    an app that answers slowly (even one byte at a time) cannot hold a run slot that other integrations wait for.
    """
    try:
        async with asyncio.timeout(None) as deadline:
            yield _AppClock(deadline, seconds)
    except TimeoutError:
        if not deadline.expired():
            raise
        raise ScimUnavailableError(
            f"The app did not finish within the run's time budget for it ({seconds:g} s); what was written before "
            "is listed per object, and the next run carries on"
        ) from None


@asynccontextmanager
async def _personio_session(
    spec: PersonioIntegrationSpec,
    secrets: RunSecrets,
    budget_seconds: float,
    guard: DestinationGuard,
    on_authenticated: Callable[[], None] | None = None,
) -> AsyncIterator[PersonioClient]:
    ref = spec.personio.credentials_secret_ref
    async with (
        guard.client(Side.PERSONIO, max_connections=HttpPolicy().max_concurrency + 2) as http,
        PersonioClient(
            spec.personio,
            secrets.personio_client_id,
            secrets.personio_client_secret,
            budget_seconds=budget_seconds,
            http=http,
            credentials_hint=f"Secret {ref.name!r}",
            on_authenticated=on_authenticated,
        ) as personio,
    ):
        yield personio


class _AppReading:
    """The app's dialect and state, read while Personio's list is still coming in (both sides only read).

    Reading starts once Personio has accepted the credentials, so a run that cannot read Personio sends the
    app nothing. Personio's outcome is judged first, as if the app were read after it. A state read more than
    ``APP_STATE_FRESH_SECONDS`` before Personio finished (a v2 fetch takes minutes) is read again, so the plan
    is never made from an old picture of the app. The app's clock runs while it is read, not while its state
    waits for Personio."""

    def __init__(self, scim: ScimClient, clock: _AppClock) -> None:
        self._scim = scim
        self._clock = clock
        self._task: asyncio.Task[tuple[ScimDialect, TargetState]] | None = None
        self._read_at = 0.0

    def start(self) -> None:
        if self._task is None:
            self._clock.run()
            self._task = asyncio.create_task(self._read(), name="read the app")

    async def _read(self) -> tuple[ScimDialect, TargetState]:
        try:
            dialect = await self._scim.discover()
            state = await self._scim.read_state()
        finally:
            self._clock.pause()
        self._read_at = time.monotonic()
        return dialect, state

    async def result(self) -> tuple[ScimDialect, TargetState]:
        self.start()
        assert self._task is not None
        dialect, state = await self._task
        self._clock.run()  # from here on the run waits on the app until the last write
        if time.monotonic() - self._read_at > APP_STATE_FRESH_SECONDS:
            state = await self._scim.read_state()
        return dialect, state

    async def stop(self) -> None:
        """Stop a read that is still going (Personio failed, or the run is cancelled) and collect its outcome."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _fetch(
    spec: PersonioIntegrationSpec,
    secrets: RunSecrets,
    progress: _Progress,
    budget_seconds: float,
    guard: DestinationGuard,
    *,
    on_authenticated: Callable[[], None] | None = None,
) -> FetchResult:
    async with _personio_session(spec, secrets, budget_seconds, guard, on_authenticated) as personio:
        fetched = await personio.fetch_employees(set(requested_attributes(spec)))
    progress.test.personio_reachable = True
    progress.test.employees_fetched = len(fetched.employees)
    progress.test.missing_attributes = sorted(a.value for a in fetched.missing_attributes)
    progress.warnings += fetched.warnings
    return fetched


def _plan(build: DesiredBuild, current: TargetState, progress: _Progress) -> TargetPlan:
    desired = _named_teams(build, current, progress)
    plan = plan_target(desired, current)
    names = {user.external_id: user.user_name for user in current.users if user.external_id}
    names.update({user.external_id: user.user_name for user in build.state.users})
    progress.plan = plan
    progress.plan_text = render_plan(plan, names, warnings=progress.warnings, app_limits=progress.app_limits)
    progress.warnings += plan.warnings
    return plan


def _named_teams(build: DesiredBuild, current: TargetState, progress: _Progress) -> DesiredState:
    """The desired state with team names distinct from each other and from the app's hand-made groups.
    Teams the planner will not create (only people without an account would fill them) do not compete."""
    with_account = {user.external_id for user in current.users if is_managed_external_id(user.external_id)}
    in_app = {group.external_id for group in current.groups if is_managed_external_id(group.external_id)}
    state = build.state
    competing = [
        group
        for group in state.groups
        if group.external_id in in_app
        or any(member not in state.held or member in with_account for member in group.member_external_ids)
    ]
    named, warnings = name_teams(competing, build.team_names, current)
    progress.warnings += warnings
    names = {group.external_id: group.display_name for group in named}
    groups = [
        group.model_copy(update={"display_name": names.get(group.external_id, group.display_name)})
        for group in state.groups
    ]
    return state.model_copy(update={"groups": groups})


def _planned_changes(plan: TargetPlan) -> int:
    return len(plan.users) + len(plan.manager_links) + len(plan.groups)


SUMMARY_EXAMPLES = 5
SUMMARY_LINE_LENGTH = 200


def summarize_warnings(warnings: Sequence[RunWarning]) -> WarningSummary:
    """Counts by kind (most frequent first) and the first few lines, people who were held first."""
    counts = Counter(w.kind.value for w in warnings)
    held_first = sorted(warnings, key=lambda w: w.kind not in HOLDING_KINDS)
    return WarningSummary(
        total=len(warnings),
        by_kind=dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
        first=[shown(w.text, SUMMARY_LINE_LENGTH) for w in held_first[:SUMMARY_EXAMPLES]],
    )


def _finish(report: RunReport, progress: _Progress, dry_run: bool) -> None:
    warnings = [shown(w.text, MAX_WARNING_LENGTH) for w in progress.warnings]
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[:MAX_WARNINGS], f"... and {len(warnings) - MAX_WARNINGS} more warnings"]
    report.warnings = warnings
    report.warning_summary = summarize_warnings(progress.warnings)
    report.plan_text = progress.plan_text
    report.plan = progress.plan
    report.app_limits = progress.app_limits
    if dry_run:
        report.test = progress.test
    if progress.plan is None:
        return
    # A Test counts what a run would do; a run counts what it did (nothing when a guard stopped it).
    objects = progress.plan.objects() if dry_run else progress.objects
    report.users, report.teams = progress.plan.counts(objects)
    if not dry_run:
        # failed first, the rejected ones leading them: the listings in status, Events and e-mail take the first
        report.objects = [_readable(obj) for obj in sorted(objects, key=lambda obj: (obj.ok, not obj.rejected))]
        report.rejected = len(rejected(objects))
        if progress.writing:
            report.rejection_limit = rejection_limit(progress.planned)


def _readable(obj: ObjectResult) -> ObjectResult:
    """Names and errors come from Personio and the app: cleaned and shortened for the report."""
    error = shown(obj.error, MAX_OBJECT_TEXT_LENGTH) if obj.error is not None else None
    return obj.model_copy(update={"name": shown(obj.name, MAX_OBJECT_TEXT_LENGTH), "error": error})
