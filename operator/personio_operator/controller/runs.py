"""One run or Test of one integration, from its first status write to its last, Event and e-mail.

A run is marked in status (``currentRun``, the slot it handles) before it starts, so a restart never
runs a slot twice. A run cut short by shutdown is recorded Interrupted, with what it had written by
then. A failed run pauses automatic runs and tells the owners by e-mail; its history entry and Event
say whether they were e-mailed, and if not, why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from personio_operator.api.run import RunResult, RunTrigger, Trigger
from personio_operator.api.status import CurrentRun, Notification
from personio_operator.controller import status as status_patches
from personio_operator.controller.clock import Clock
from personio_operator.controller.decide import Action
from personio_operator.controller.events import (
    EventPoster,
    Reason,
    describe_changes,
    describe_rejections,
    describe_warnings,
)
from personio_operator.controller.integration import Integration, Key
from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.controller.metrics import Metrics
from personio_operator.controller.notify import Delivery, FailureNotice, Mailer
from personio_operator.controller.secrets import read_for_run
from personio_operator.controller.settings import OperatorSettings
from personio_operator.controller.status import Outcome, Patch
from personio_operator.controller.text import one_line, timestamp
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION
from personio_operator.errors import ConfigurationError, ErrorKind, SyncError
from personio_operator.sync.report import RunReport
from personio_operator.sync.secrets import RunSecrets

log = logging.getLogger(__name__)

Runner = Callable[..., Awaitable[RunReport]]


class Store(Protocol):
    """Where runs read and write the integration (the reconciler: the API, and the scheduler's view)."""

    async def write(self, item: Integration, patch: Patch) -> Integration: ...

    async def read(self, key: Key) -> Integration | None: ...

    def latest(self, key: Key) -> Integration | None: ...

    def paused(self, key: Key) -> None: ...


class RunSlots:
    """At most ``size`` runs and Tests at once, across all integrations."""

    def __init__(self, size: int, metrics: Metrics) -> None:
        self._semaphore = asyncio.Semaphore(size)
        self._metrics = metrics

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[bool]:
        """Hold a slot; yields whether it had to wait for it."""
        full = self._semaphore.locked()
        if full:
            self._metrics.waiting.inc()
        try:
            await self._semaphore.acquire()
        finally:
            if full:
                self._metrics.waiting.dec()
        try:
            yield full
        finally:
            self._semaphore.release()


def how_to_resume(item: Integration) -> str:
    secrets = ", ".join(item.secret_names()) or "the referenced Secrets"
    return (
        f"Fix the cause; runs resume when the spec or the Secret(s) {secrets} change. To run now: "
        f"personio-operator trigger run {item.name} -n {item.namespace} (or set the annotation "
        f"{RUN_REQUEST_ANNOTATION})."
    )


class Runs:
    def __init__(
        self,
        settings: OperatorSettings,
        *,
        clock: Clock,
        kube: KubeApi,
        metrics: Metrics,
        events: EventPoster,
        runner: Runner,
        store: Store,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.kube = kube
        self.metrics = metrics
        self.events = events
        self.runner = runner
        self.store = store
        self.mailer = Mailer(settings.smtp)
        self.in_flight: set[str] = set()  # ids of the runs in flight in this process
        self._executions: dict[str, asyncio.Task[RunReport]] = {}

    def interrupt(self) -> None:
        """Cut every run in flight short (the operator is stopping): each records itself as interrupted."""
        for task in self._executions.values():
            task.cancel()

    async def run(self, item: Integration, action: Action) -> None:
        assert action.trigger is not None and action.started_by is not None
        run = self._new_run(action.trigger, action.started_by)
        # The versions of the Secrets this run reads: a change after this point resumes a pause.
        secrets, versions = await self._read_secrets(item)
        self.in_flight.add(run.id)
        self.metrics.running.inc()
        try:
            patch = status_patches.run_started(
                item,
                run,
                now=self.clock.now(),
                slot=action.slot,
                run_request=action.request.value if action.request else None,
            )
            started = await self.store.write(item, patch)
            await self.events.post(
                started, Reason.RUN_STARTED, f"Run {run.id} started ({run.trigger.value}, by {run.started_by})"
            )
            execution = asyncio.create_task(self._execute(started, run, secrets, dry_run=False))
            self._executions[run.id] = execution
            try:
                report = await execution
            finally:
                del self._executions[run.id]
            await self._finish(started, run, report, versions)
        finally:
            self.in_flight.discard(run.id)
            self.metrics.running.dec()

    async def test(self, item: Integration, action: Action) -> None:
        assert action.request is not None and action.started_by is not None
        secrets, _ = await self._read_secrets(item)
        run = self._new_run(Trigger.MANUAL, action.started_by)
        report = await self._execute(item, run, secrets, dry_run=True)
        current = self.store.latest(item.key) or item
        tested = await self.store.write(current, status_patches.dry_run_finished(current, report, action.request.value))
        self.metrics.record_test(report)
        await self._post_warnings(tested, Reason.TEST_WARNINGS, f"Test {report.id}", report)
        if report.succeeded:
            message = f"Test {report.id} passed; a run would make {describe_changes(report)}"
            await self.events.post(tested, Reason.TEST_SUCCEEDED, message)
        else:
            await self.events.post(tested, Reason.TEST_FAILED, f"Test {report.id} failed: {report.error}")

    def _new_run(self, trigger: RunTrigger, started_by: str) -> CurrentRun:
        return CurrentRun(
            id=uuid.uuid4().hex[:12], trigger=trigger, started_by=started_by, start_time=timestamp(self.clock.now())
        )

    # -- the run itself -----------------------------------------------------------------------------

    async def _read_secrets(self, item: Integration) -> tuple[RunSecrets | SyncError, dict[str, str]]:
        if item.spec is None:
            return ConfigurationError(item.spec_error or "the spec is invalid"), {}
        return await read_for_run(self.kube, item.namespace, item.spec, self.settings)

    async def _execute(
        self, item: Integration, run: CurrentRun, secrets: RunSecrets | SyncError, *, dry_run: bool
    ) -> RunReport:
        trigger = Trigger.TEST if dry_run else run.trigger
        cut_short: list[RunReport] = []
        try:
            if isinstance(secrets, SyncError):
                return self._failed(run, trigger, dry_run, str(secrets), secrets.kind)
            assert item.spec is not None
            try:
                return await self.runner(
                    item.spec,
                    secrets,
                    trigger=trigger,
                    started_by=run.started_by,
                    dry_run=dry_run,
                    run_id=run.id,
                    now=self.clock.now,
                    budget_seconds=self.settings.run_budget_seconds,
                    destinations=self.settings.destinations,
                    on_interrupted=cut_short.append,
                )
            except Exception:
                log.exception("Run %s of %s/%s crashed", run.id, *item.key)
                message = f"internal error in the operator: see its logs for run {run.id}"
                return self._failed(run, trigger, dry_run, message, ErrorKind.TRANSIENT)
        except asyncio.CancelledError:
            if not dry_run:
                await self._record_interruption(item.key, run, cut_short[0] if cut_short else None)
            raise

    def _failed(self, run: CurrentRun, trigger: Trigger, dry_run: bool, error: str, kind: ErrorKind) -> RunReport:
        return RunReport(
            id=run.id,
            trigger=trigger,
            started_by=run.started_by,
            dry_run=dry_run,
            started_at=run.start_time,
            completed_at=self.clock.now(),
            result=RunResult.FAILED,
            error=error,
            error_kind=kind,
        )

    async def _record_interruption(self, key: Key, run: CurrentRun, report: RunReport | None) -> None:
        """The operator is stopping (or the integration went away): record the run as interrupted now, with
        what it wrote. If this is cut short too, the next start finds status.currentRun and records it then."""
        try:
            item = await self.store.read(key)
            if item is None or item.status.current_run is None or item.status.current_run.id != run.id:
                return
            item = await self.store.write(
                item, status_patches.run_interrupted(item, now=self.clock.now(), report=report)
            )
            written = f"; written before it stopped: {describe_changes(report)}" if report else ""
            await self.events.post(
                item, Reason.RUN_INTERRUPTED, f"Run {run.id} was interrupted: the operator stopped{written}"
            )
        except KubeError:
            log.warning("Could not record run %s of %s/%s as interrupted", run.id, *key)

    # -- after the run ------------------------------------------------------------------------------

    async def _finish(self, started: Integration, run: CurrentRun, report: RunReport, versions: dict[str, str]) -> None:
        item = self.store.latest(started.key) or started  # the object now: the spec may have changed meanwhile
        was_paused = started.paused
        resume_hint = how_to_resume(item)
        delivery = None if report.succeeded else await self._notify(item, report, resume_hint)
        # The rule: any failed run pauses automatic runs until the problem is fixed. Transient problems were
        # already retried inside the run, within its time budget.
        outcome = Outcome(paused=False)
        if not report.succeeded:
            outcome = Outcome(paused=True, pause_generation=started.generation, pause_secret_versions=versions)
            self.store.paused(item.key)
        notification = None
        if delivery is not None:
            notification = Notification(emailed=delivery.emailed, message=one_line(delivery.summary()))
        status_error: KubeError | None = None
        patch = status_patches.run_finished(
            item,
            report,
            run.trigger,
            outcome,
            now=self.clock.now(),
            how_to_resume=resume_hint,
            notification=notification,
        )
        try:
            item = await self.store.write(item, patch)
        except KubeError as err:
            status_error = err  # the Events below still tell what the run did
        self.metrics.record_run(report, run.trigger.value)
        self.metrics.set_paused(item.key, outcome.paused)
        await self._post_finished(item, run, report, delivery, was_paused=was_paused, resume_hint=resume_hint)
        if status_error is not None:
            raise status_error

    async def _post_finished(
        self,
        item: Integration,
        run: CurrentRun,
        report: RunReport,
        delivery: Delivery | None,
        *,
        was_paused: bool,
        resume_hint: str,
    ) -> None:
        await self._post_warnings(item, Reason.RUN_WARNINGS, f"Run {run.id}", report)
        if report.rejected:
            await self.events.post(item, Reason.OBJECTS_REJECTED, describe_rejections(f"Run {run.id}", report))
        if report.succeeded:
            rejected = f"; {report.rejected} rejected by the app" if report.rejected else ""
            message = f"Run {run.id} succeeded: {describe_changes(report)}{rejected}"
            await self.events.post(item, Reason.RUN_SUCCEEDED, message)
            if was_paused:
                await self.events.post(item, Reason.RESUMED, f"Automatic runs resumed: run {run.id} succeeded")
            return
        owners = delivery.summary() if delivery is not None else "not e-mailed"
        await self.events.post(item, Reason.RUN_FAILED, f"Run {run.id} failed; owners {owners}. Error: {report.error}")
        if not was_paused:
            await self.events.post(
                item, Reason.PAUSED, f"Automatic runs paused after run {run.id} failed. {resume_hint}"
            )
        if delivery is not None and (delivery.failed or (delivery.emailed and delivery.problems)):
            problem = delivery.not_sent if delivery.failed else f"sent, but addresses were {delivery.problems}"
            await self.events.post(item, Reason.NOTIFICATION_FAILED, f"Failure e-mail {problem}")

    async def _notify(self, item: Integration, report: RunReport, resume_hint: str) -> Delivery:
        recipients: list[Any] = list(item.spec.notifications.emails) if item.spec else []
        return await self.mailer.notify(FailureNotice(item.namespace, item.name, report, resume_hint), recipients)

    async def _post_warnings(self, item: Integration, reason: Reason, what: str, report: RunReport) -> None:
        """One Event per run or Test with per-person warnings: counts by kind and the first few."""
        summary = status_patches.warning_summary(report.warning_summary)
        if summary is not None:
            await self.events.post(item, reason, f"{what}: {describe_warnings(summary)}")
