"""The per-integration work behind each tick: run, test, pause, resume, and say so.

kopf calls :meth:`Reconciler.tick` for each object every ``tick_seconds``. A tick that finds
nothing to do makes no API call. Before acting, the object is read fresh from the API so a stale
watch view can never start a run twice. A tick never fails silently nor with a traceback: what
stops it is logged and posted as a Warning Event (once while the same failure repeats).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from personio_operator.api.run import RunResult, RunTrigger, Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.api.status import CurrentRun
from personio_operator.controller import status as status_patches
from personio_operator.controller.clock import Clock, SystemClock
from personio_operator.controller.decide import Action, ActionKind, View, decide, next_run_time, read_spec
from personio_operator.controller.events import (
    REPORTING_COMPONENT,
    Reason,
    describe_changes,
    describe_rejections,
    describe_warnings,
    post,
)
from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.controller.metrics import Metrics
from personio_operator.controller.notify import FailureNotice, Mailer, NotificationError
from personio_operator.controller.secrets import read_run_secrets, referenced_secret_names, secret_versions
from personio_operator.controller.settings import OperatorSettings
from personio_operator.controller.status import ObjectState, Outcome
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION
from personio_operator.errors import ConfigurationError, ErrorKind, SyncError
from personio_operator.redaction import redact, redact_data
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets

log = logging.getLogger(__name__)

Runner = Callable[..., Awaitable[RunReport]]
Key = tuple[str, str]


def _spec_or_error(raw: Any) -> PersonioIntegrationSpec:
    spec, _, problem = read_spec(raw)
    if spec is None:
        raise ConfigurationError(problem or "the spec is invalid")
    return spec


class Reconciler:
    def __init__(
        self,
        settings: OperatorSettings,
        *,
        clock: Clock | None = None,
        kube: KubeApi | None = None,
        metrics: Metrics | None = None,
        runner: Runner = run_integration,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.kube = kube or KubeApi()
        self.metrics = metrics or Metrics()
        self.mailer = Mailer(settings.smtp)
        self.runner = runner
        self._slots = asyncio.Semaphore(settings.max_concurrent_runs)
        self._in_flight: set[str] = set()
        self._runs: dict[str, asyncio.Task[RunReport]] = {}
        self._last_secret_check: dict[Key, float] = {}
        self._tick_failures: dict[Key, str] = {}  # the failure last reported per integration

    # -- the tick ---------------------------------------------------------------------------

    async def tick(self, body: Mapping[str, Any]) -> None:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        try:
            await self._tick(key, body)
        except Exception as err:  # whatever stops a tick is reported; the next tick tries again
            self._tick_failed(key, body, err)
        else:
            self._tick_failures.pop(key, None)

    async def _tick(self, key: Key, body: Mapping[str, Any]) -> None:
        view = View.of(body)
        self.metrics.set_paused(key, view.status.paused_generation is not None)
        action = decide(view, self.clock.now(), in_flight=self._in_flight, secrets_check_due=self._secrets_due(key))
        if action.kind is ActionKind.IDLE:
            await self._keep_current(key, body, view)
            return
        fresh = await self.kube.get_integration(*key)
        if fresh is None:
            return
        view = View.of(fresh)
        action = decide(view, self.clock.now(), in_flight=self._in_flight, secrets_check_due=self._secrets_due(key))
        await self._act(key, body, fresh, view, action)

    def forget(self, key: Key) -> None:
        self._last_secret_check.pop(key, None)
        self._tick_failures.pop(key, None)
        self.metrics.forget([key])

    def _tick_failed(self, key: Key, body: Any, err: Exception) -> None:
        if isinstance(err, KubeError):
            message = f"The operator could not finish its work on this integration and retries: {err}"
            if err.status_code == 422:
                message += " (the API server refused the status; if the operator was upgraded, apply its new CRD)"
        else:
            message = f"Internal error in the operator ({type(err).__name__}); it retries, see its logs"
        if self._tick_failures.get(key) == message:
            log.debug("Tick of %s/%s failed again: %s", *key, message)
            return
        self._tick_failures[key] = message
        if isinstance(err, KubeError):
            log.warning("Tick of %s/%s failed: %s", *key, err)
        else:
            log.error("Tick of %s/%s failed", *key, exc_info=err)
        post(body, Reason.RECONCILE_FAILED, message)

    def _secrets_due(self, key: Key) -> bool:
        last = self._last_secret_check.get(key)
        return last is None or time.monotonic() - last >= self.settings.secret_check_seconds

    async def _act(self, key: Key, body: Any, obj: Mapping[str, Any], view: View, action: Action) -> None:
        status = view.status
        match action.kind:
            case ActionKind.RECORD_INTERRUPTED:
                run = status.current_run
                assert run is not None
                await self._patch(key, status_patches.run_interrupted(status, self._state(obj, view), now=self._now()))
                post(body, Reason.RUN_INTERRUPTED, f"Run {run.id} was interrupted by an operator restart")
            case ActionKind.TEST:
                await self._test(key, body, obj, view, action)
            case ActionKind.RUN:
                await self._run(key, body, obj, view, action)
            case ActionKind.MARK_INACTIVE:
                await self._patch(key, status_patches.inactive(status, self._state(obj, view), now=self._now()))
                post(body, Reason.DEACTIVATED, "spec.active is false: no runs until it is set to true")
            case ActionKind.IGNORE_RUN_REQUEST:
                assert action.request is not None
                await self._patch(key, {"lastHandledRunRequest": action.request.value})
                post(body, Reason.RUN_REQUEST_IGNORED, f"Run request ignored: {action.reason}")
            case ActionKind.REPORT_INVALID_SPEC:
                patch = status_patches.invalid_spec(status, self._state(obj, view), action.reason, now=self._now())
                await self._patch(key, patch)
                post(body, Reason.INVALID_SPEC, f"No runs until the spec is fixed: {action.reason}")
            case ActionKind.ACCEPT_SPEC:
                await self._patch(key, status_patches.spec_accepted(status, self._state(obj, view), now=self._now()))
                post(body, Reason.SPEC_ACCEPTED, "The spec is valid again")
            case ActionKind.RESUME:
                await self._resume(key, body, obj, view, action.reason)
            case ActionKind.CHECK_SECRETS:
                await self._check_secrets(key, body, obj, view)
            case ActionKind.IDLE:
                await self._keep_current(key, obj, view)

    # -- runs -------------------------------------------------------------------------------

    async def _run(self, key: Key, body: Any, obj: Mapping[str, Any], view: View, action: Action) -> None:
        async with self._run_slot() as waited:
            if waited:
                # Waiting for a slot can take a whole run of another integration: decide again on
                # what the object says now (it may have been switched off, paused or deleted).
                fresh = await self.kube.get_integration(*key)
                if fresh is None:
                    return
                obj, view = fresh, View.of(fresh)
                action = decide(view, self.clock.now(), in_flight=self._in_flight, secrets_check_due=False)
                if action.kind is not ActionKind.RUN:
                    return  # the next tick does what is due now
            assert action.trigger is not None and action.started_by is not None
            run = self._new_run(action.trigger, action.started_by)
            # Versions of the Secrets this run reads: a change after this point resumes a pause.
            secret_versions_at_start = await self._secret_versions_or_empty(key[0], obj)
            self._in_flight.add(run.id)
            self.metrics.running.inc()
            try:
                await self._patch(
                    key,
                    status_patches.run_started(
                        view.status,
                        self._state(obj, view),
                        run,
                        now=self._now(),
                        slot=action.slot,
                        run_request=action.request.value if action.request else None,
                    ),
                )
                post(body, Reason.RUN_STARTED, f"Run {run.id} started ({run.trigger.value}, by {run.started_by})")
                task = asyncio.create_task(self._execute_or_record_interruption(key, body, obj, run))
                self._runs[run.id] = task
                report = await task
            finally:
                self._runs.pop(run.id, None)
                self._in_flight.discard(run.id)
                self.metrics.running.dec()
            # Still inside the slot: status.currentRun is cleared before another run may start.
            await self._finish(key, body, obj, view, run, report, secret_versions_at_start)

    @contextlib.asynccontextmanager
    async def _run_slot(self) -> AsyncIterator[bool]:
        """Hold one of the ``max_concurrent_runs`` slots; yields whether it had to wait for it."""
        full = self._slots.locked()
        if full:
            self.metrics.waiting.inc()
        try:
            await self._slots.acquire()
        finally:
            if full:
                self.metrics.waiting.dec()
        try:
            yield full
        finally:
            self._slots.release()

    def _new_run(self, trigger: RunTrigger, started_by: str) -> CurrentRun:
        return CurrentRun(
            id=uuid.uuid4().hex[:12],
            trigger=trigger,
            started_by=started_by,
            start_time=status_patches.timestamp(self._now()),
        )

    async def _execute_or_record_interruption(
        self, key: Key, body: Any, obj: Mapping[str, Any], run: CurrentRun
    ) -> RunReport:
        try:
            return await self._execute(key[0], obj, run, dry_run=False)
        except asyncio.CancelledError:
            # The operator is stopping: record the run as interrupted now (safe to repeat). If this
            # write is cut short too, the next start finds status.currentRun and records it then.
            try:
                current = await self.kube.get_integration(*key)
                if current is not None:
                    view = View.of(current)
                    if view.status.current_run is not None and view.status.current_run.id == run.id:
                        patch = status_patches.run_interrupted(view.status, self._state(current, view), now=self._now())
                        await self._patch(key, patch)
                        await self.kube.post_event(
                            current,
                            type_="Warning",
                            reason=Reason.RUN_INTERRUPTED.value,
                            message=redact(f"Run {run.id} was interrupted: the operator stopped"),
                            component=REPORTING_COMPONENT,
                            now=self._now(),
                        )
            except KubeError:
                log.warning("Could not record run %s of %s/%s as interrupted", run.id, *key)
            raise

    async def shutdown(self, *, grace_seconds: float = 10.0) -> None:
        """Cancel runs in flight (they record themselves as interrupted) before the API client closes."""
        tasks = list(self._runs.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)

    async def _finish(
        self,
        key: Key,
        body: Any,
        obj: Mapping[str, Any],
        view: View,
        run: CurrentRun,
        report: RunReport,
        secret_versions: dict[str, str],
    ) -> None:
        status = view.status
        was_paused = status.paused_generation is not None
        # The seed's rule: any failed run pauses automatic runs until the problem is fixed. Transient
        # problems were already retried inside the run, within its time budget.
        pause = not report.succeeded
        outcome = Outcome(paused=False)
        if pause:
            outcome = Outcome(
                paused=True,
                pause_generation=view.generation,
                pause_secret_versions=secret_versions,
            )
            self._last_secret_check[key] = time.monotonic()
        state = self._state(obj, view, paused=pause)
        how_to_resume = self._how_to_resume(key, obj)
        status_error: KubeError | None = None
        try:
            # Re-read: the status changed since `view` was taken (the run-started patch).
            current = await self.kube.get_integration(*key)
            current_status = View.of(current).status if current else status
            await self._patch(
                key,
                status_patches.run_finished(
                    current_status, state, report, run.trigger, outcome, now=self._now(), how_to_resume=how_to_resume
                ),
            )
        except KubeError as err:
            status_error = err  # the Events and the e-mail below still tell what the run did
        self.metrics.record_run(report, run.trigger.value)
        self.metrics.set_paused(key, pause)
        self._post_warnings(body, Reason.RUN_WARNINGS, f"Run {run.id}", report)
        if report.rejected:
            post(body, Reason.OBJECTS_REJECTED, describe_rejections(f"Run {run.id}", report))
        if report.succeeded:
            rejected = f"; {report.rejected} rejected by the app" if report.rejected else ""
            post(body, Reason.RUN_SUCCEEDED, f"Run {run.id} succeeded: {describe_changes(report)}{rejected}")
            if was_paused:
                post(body, Reason.RESUMED, f"Automatic runs resumed: run {run.id} succeeded")
        else:
            post(body, Reason.RUN_FAILED, f"Run {run.id} failed: {report.error}")
            if pause and not was_paused:
                post(body, Reason.PAUSED, f"Automatic runs paused after run {run.id} failed. {how_to_resume}")
            await self._notify(key, body, obj, report, how_to_resume=how_to_resume)
        if status_error is not None:
            raise status_error

    @staticmethod
    def _post_warnings(body: Any, reason: Reason, what: str, report: RunReport) -> None:
        """One Event per run or Test with per-person warnings: counts by kind and the first few."""
        summary = status_patches.warning_summary(report.warning_summary)
        if summary is not None:
            post(body, reason, f"{what}: {describe_warnings(summary)}")

    async def _test(self, key: Key, body: Any, obj: Mapping[str, Any], view: View, action: Action) -> None:
        assert action.request is not None and action.started_by is not None
        async with self._run_slot():
            run = self._new_run(Trigger.MANUAL, action.started_by)
            report = await self._execute(key[0], obj, run, dry_run=True)
        await self._patch(
            key, status_patches.dry_run_finished(view.status, self._state(obj, view), report, action.request.value)
        )
        self.metrics.record_test(report)
        self._post_warnings(body, Reason.TEST_WARNINGS, f"Test {report.id}", report)
        if report.succeeded:
            post(body, Reason.TEST_SUCCEEDED, f"Test {report.id} passed; a run would make {describe_changes(report)}")
        else:
            post(body, Reason.TEST_FAILED, f"Test {report.id} failed: {report.error}")

    async def _execute(self, namespace: str, obj: Mapping[str, Any], run: CurrentRun, *, dry_run: bool) -> RunReport:
        trigger = Trigger.TEST if dry_run else run.trigger
        try:
            spec = _spec_or_error(obj.get("spec"))
            secrets: RunSecrets = await read_run_secrets(self.kube, namespace, spec, self.settings)
        except SyncError as err:
            return self._failed(run, trigger, dry_run, str(err), err.kind)
        try:
            return await self.runner(
                spec,
                secrets,
                trigger=trigger,
                started_by=run.started_by,
                dry_run=dry_run,
                run_id=run.id,
                now=self.clock.now,
                budget_seconds=self.settings.run_budget_seconds,
                destinations=self.settings.destinations,
            )
        except Exception:
            log.exception("Run %s of %s/%s crashed", run.id, namespace, obj.get("metadata", {}).get("name"))
            message = f"internal error in the operator: see its logs for run {run.id}"
            return self._failed(run, trigger, dry_run, message, ErrorKind.TRANSIENT)

    def _failed(self, run: CurrentRun, trigger: Trigger, dry_run: bool, error: str, kind: ErrorKind) -> RunReport:
        return RunReport(
            id=run.id,
            trigger=trigger,
            started_by=run.started_by,
            dry_run=dry_run,
            started_at=run.start_time,
            completed_at=self._now(),
            result=RunResult.FAILED,
            error=error,
            error_kind=kind,
        )

    # -- pause / resume ---------------------------------------------------------------------

    async def _resume(self, key: Key, body: Any, obj: Mapping[str, Any], view: View, why: str) -> None:
        await self._patch(
            key, status_patches.resumed(view.status, self._state(obj, view, paused=False), why, now=self._now())
        )
        self.metrics.set_paused(key, False)
        post(body, Reason.RESUMED, f"Automatic runs resumed: {why}")

    async def _check_secrets(self, key: Key, body: Any, obj: Mapping[str, Any], view: View) -> None:
        self._last_secret_check[key] = time.monotonic()
        versions = await self._secret_versions_or_empty(key[0], obj)
        if not versions:
            return
        seen = view.status.paused_secret_versions
        changed = sorted(name for name, version in versions.items() if seen.get(name) != version)
        if changed:
            await self._resume(key, body, obj, view, f"Secret {', '.join(changed)} changed")

    async def _secret_versions_or_empty(self, namespace: str, obj: Mapping[str, Any]) -> dict[str, str]:
        try:
            names = referenced_secret_names(_spec_or_error(obj.get("spec")))
            return await secret_versions(self.kube, namespace, names, self.settings)
        except SyncError:
            return {}

    def _how_to_resume(self, key: Key, obj: Mapping[str, Any]) -> str:
        namespace, name = key
        try:
            secrets = ", ".join(referenced_secret_names(_spec_or_error(obj.get("spec"))))
        except ConfigurationError:
            secrets = "the referenced Secrets"
        return (
            f"Fix the cause; runs resume when the spec or the Secret(s) {secrets} change. To run now: "
            f"personio-operator trigger run {name} -n {namespace} (or set the annotation {RUN_REQUEST_ANNOTATION})."
        )

    async def _notify(
        self, key: Key, body: Any, obj: Mapping[str, Any], report: RunReport, *, how_to_resume: str
    ) -> None:
        spec, _, _ = read_spec(obj.get("spec"))
        recipients = list(spec.notifications.emails) if spec else []
        notice = FailureNotice(key[0], key[1], report, how_to_resume)
        try:
            delivery = await self.mailer.send_failure(notice, recipients)
        except NotificationError as err:
            log.warning("Failure e-mail for %s/%s not sent: %s", *key, err)
            post(body, Reason.NOTIFICATION_FAILED, f"Failure e-mail not sent: {err}")
            return
        if delivery.sent_to and delivery.problems:
            post(body, Reason.NOTIFICATION_FAILED, f"Failure e-mail sent, but addresses were {delivery.problems}")

    # -- status -----------------------------------------------------------------------------

    async def _keep_current(self, key: Key, obj: Mapping[str, Any], view: View) -> None:
        patch = status_patches.idle(view.status, self._state(obj, view))
        if patch is not None:
            await self._patch(key, patch)

    def _state(self, obj: Mapping[str, Any], view: View, *, paused: bool | None = None) -> ObjectState:
        if paused is None:
            paused = view.status.paused_generation is not None
        raw_limit = (obj.get("spec") or {}).get("historyLimit", 10)
        limit = raw_limit if isinstance(raw_limit, int) and 1 <= raw_limit <= 100 else 10
        return ObjectState(
            generation=view.generation,
            active=view.active,
            history_limit=limit,
            next_run=next_run_time(view, self._now(), paused=paused),
            spec_valid=view.spec_error is None,
        )

    async def _patch(self, key: Key, patch: dict[str, Any]) -> None:
        """The one place status is written: every string in the patch is redacted."""
        await self.kube.patch_integration_status(*key, redact_data(patch))  # a failure is reported by the tick

    def _now(self) -> datetime:
        return self.clock.now()
