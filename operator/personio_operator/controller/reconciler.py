"""The work the scheduler asks for, one integration at a time: read it fresh, decide again, act, say so.

Every action reads the object fresh from the API and decides again on what it says, so a stale watch
view never starts a run twice; a run or Test first waits for one of ``max_concurrent_runs`` slots and
decides after the wait (the integration may have been switched off meanwhile). A paused integration's
Secret check reads only its Secrets, and the object only if one changed. Every status write goes through
:meth:`Reconciler.write` (redacted; the answer becomes the integration's latest view). What stops a job
is logged and posted as one Warning Event per distinct failure; the scheduler tries again later.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from personio_operator.controller import status as status_patches
from personio_operator.controller.clock import Clock, SystemClock
from personio_operator.controller.decide import Action, ActionKind, decide, next_due, watches_secrets
from personio_operator.controller.events import EventPoster, Reason
from personio_operator.controller.integration import Integration, Key
from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.controller.metrics import Metrics
from personio_operator.controller.runs import Runner, Runs, RunSlots
from personio_operator.controller.scheduler import Job, Plan, Scheduler
from personio_operator.controller.secrets import secret_versions
from personio_operator.controller.settings import OperatorSettings
from personio_operator.controller.status import Patch
from personio_operator.errors import SyncError
from personio_operator.redaction import redact_data
from personio_operator.sync.runner import run_integration

log = logging.getLogger(__name__)


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
        self.events = EventPoster(self.kube, self.clock.now)
        self.slots = RunSlots(settings.max_concurrent_runs, self.metrics)
        self.runs = Runs(
            settings,
            clock=self.clock,
            kube=self.kube,
            metrics=self.metrics,
            events=self.events,
            runner=runner,
            store=self,
        )
        self.scheduler = Scheduler(self.clock, self, retry_seconds=settings.retry_seconds)
        self._secrets_checked: dict[Key, float] = {}  # time.monotonic() of each paused integration's last check
        self._reported: dict[Key, str] = {}  # the failure last reported per integration

    # -- what kopf hands over -----------------------------------------------------------------------

    def observe(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """A watch event: the integration parsed once, or gone. A version already held (the watch lists every
        object again when it reconnects) changes nothing: it is not parsed or looked at again."""
        if event_type != "DELETED" and self._holds(body):
            return
        item = Integration.parse(body)
        if event_type == "DELETED":
            self.forget(item.key)
            return
        self.metrics.set_paused(item.key, item.paused)
        self.scheduler.observe(item)

    def _holds(self, body: Mapping[str, Any]) -> bool:
        meta = body.get("metadata")
        if not isinstance(meta, Mapping):
            return False
        held = self.scheduler.latest((str(meta.get("namespace") or ""), str(meta.get("name") or "")))
        version = meta.get("resourceVersion")
        return (
            held is not None and version is not None and (held.uid, held.resource_version) == (meta.get("uid"), version)
        )

    def forget(self, key: Key) -> None:
        self.scheduler.remove(key)
        self._secrets_checked.pop(key, None)
        self._reported.pop(key, None)
        self.metrics.forget([key])

    def start(self) -> None:
        self.scheduler.start()

    async def shutdown(self, *, grace_seconds: float = 10.0) -> None:
        """Stop scheduling; runs in flight are cut short and record themselves as interrupted; other work
        (a finishing run's status write, say) gets ``grace_seconds`` to end."""
        await self.scheduler.stop_deciding()
        self.runs.interrupt()
        await self.scheduler.drain(grace_seconds=grace_seconds)

    # -- what the scheduler asks ----------------------------------------------------------------------

    def plan(self, item: Integration) -> Plan:
        now = self.clock.now()
        check_at = self._next_secret_check(item.key) if watches_secrets(item) else None
        due = check_at is not None and check_at <= time.monotonic()
        action = decide(item, now, in_flight=self.runs.in_flight, secrets_check_due=due)
        return Plan(action, due=next_due(item, now), check_at=check_at)

    async def work(self, job: Job) -> None:
        try:
            if job.action.kind is ActionKind.CHECK_SECRETS:
                await self._check_secrets(job)
            else:
                await self._work(job)
        except Exception as err:
            await self._report_failure(job.key, err)
            raise
        self._reported.pop(job.key, None)

    async def _work(self, job: Job) -> None:
        async with contextlib.AsyncExitStack() as slot:
            holding = job.action.kind.needs_run_slot
            if holding:
                await slot.enter_async_context(self._slot(job))  # waits first: decided after the wait
            item = await self.read(job.key)
            if item is None:
                return
            action = self.plan(item).action
            waited = action.kind.needs_run_slot and not holding and await slot.enter_async_context(self._slot(job))
            if waited:
                item = await self.read(job.key)  # decide again on what the object says after the wait
                if item is None:
                    return
                action = self.plan(item).action
            if action.kind is ActionKind.IDLE:
                return
            job.acts(item, action)
            await self._act(item, action)

    @contextlib.asynccontextmanager
    async def _slot(self, job: Job) -> AsyncIterator[bool]:
        """A run slot; while the job waits for it, an event may cancel it (it has written nothing)."""
        job.waiting = True
        try:
            async with self.slots.held() as waited:
                job.waiting = False
                yield waited
        finally:
            job.waiting = False

    async def _act(self, item: Integration, action: Action) -> None:
        now = self.clock.now()
        match action.kind:
            case ActionKind.CLEAN_UP:
                await self._clean_up(item)
            case ActionKind.RECORD_INTERRUPTED:
                run = item.status.current_run
                assert run is not None
                item = await self.write(item, status_patches.run_interrupted(item, now=now))
                await self.events.post(
                    item, Reason.RUN_INTERRUPTED, f"Run {run.id} was interrupted by an operator restart"
                )
            case ActionKind.TEST:
                await self.runs.test(item, action)
            case ActionKind.RUN:
                await self.runs.run(item, action)
            case ActionKind.MARK_INACTIVE:
                item = await self.write(item, status_patches.inactive(item, now=now))
                await self.events.post(
                    item, Reason.DEACTIVATED, "spec.active is false: no runs until it is set to true"
                )
            case ActionKind.IGNORE_RUN_REQUEST:
                assert action.request is not None
                item = await self.write(item, {"lastHandledRunRequest": action.request.value})
                await self.events.post(item, Reason.RUN_REQUEST_IGNORED, f"Run request ignored: {action.reason}")
            case ActionKind.REPORT_INVALID_SPEC:
                item = await self.write(item, status_patches.invalid_spec(item, action.reason, now=now))
                await self.events.post(item, Reason.INVALID_SPEC, f"No runs until the spec is fixed: {action.reason}")
            case ActionKind.ACCEPT_SPEC:
                item = await self.write(item, status_patches.spec_accepted(item, now=now))
                await self.events.post(item, Reason.SPEC_ACCEPTED, "The spec is valid again")
            case ActionKind.RESUME:
                await self._resume(item, action.reason)
            case ActionKind.REFRESH:
                await self.write(item, status_patches.refreshed(item, now=now))
            case ActionKind.CHECK_SECRETS | ActionKind.IDLE:
                pass  # the Secret check is a job of its own (it reads the object only if a Secret changed)

    # -- pause / resume -------------------------------------------------------------------------------

    def paused(self, key: Key) -> None:
        """A run just paused ``key``: its Secrets were read at the start of that run."""
        self._secrets_checked[key] = time.monotonic()

    def _next_secret_check(self, key: Key) -> float:
        last = self._secrets_checked.get(key)
        return time.monotonic() if last is None else last + self.settings.secret_check_seconds

    async def _check_secrets(self, job: Job) -> None:
        """Resume a paused integration when a Secret it names changed since the failed run read it."""
        self._secrets_checked[job.key] = time.monotonic()
        item = self.scheduler.latest(job.key)
        if item is None or not _changed_secrets(item, await self._secret_versions(item)):
            return
        fresh = await self.read(job.key)
        if fresh is None or not watches_secrets(fresh) or fresh.generation != fresh.status.paused_generation:
            return  # resumed or changed meanwhile: the scheduler looks at it again
        changed = _changed_secrets(fresh, await self._secret_versions(fresh))
        if changed:
            job.acts(fresh, Action(ActionKind.RESUME))
            await self._resume(fresh, f"Secret {', '.join(changed)} changed")

    async def _secret_versions(self, item: Integration) -> dict[str, str]:
        try:
            return await secret_versions(self.kube, item.namespace, item.secret_names(), self.settings)
        except SyncError:
            return {}

    async def _resume(self, item: Integration, why: str) -> None:
        item = await self.write(item, status_patches.resumed(item, why, now=self.clock.now()))
        self.metrics.set_paused(item.key, False)
        await self.events.post(item, Reason.RESUMED, f"Automatic runs resumed: {why}")

    # -- reading and writing the object ---------------------------------------------------------------

    async def read(self, key: Key) -> Integration | None:
        """The integration as the API has it now (None if it is gone); it becomes the latest view."""
        body = await self.kube.get_integration(*key)
        if body is None:
            return None
        item = Integration.parse(body)
        self.scheduler.observe(item)
        return item

    def latest(self, key: Key) -> Integration | None:
        return self.scheduler.latest(key)

    async def write(self, item: Integration, patch: Patch) -> Integration:
        """The one place status is written: every string in the patch is redacted."""
        body = await self.kube.patch_integration_status(item.namespace, item.name, redact_data(patch))
        written = Integration.parse(body)
        self.scheduler.observe(written)
        return written

    async def _clean_up(self, item: Integration) -> None:
        """Remove the annotations earlier versions (kopf's handler state) left on the object."""
        body = await self.kube.patch_integration_metadata(
            item.namespace, item.name, {"annotations": dict.fromkeys(item.leftovers)}
        )
        log.info("Removed %s from %s/%s (left by an earlier version)", ", ".join(item.leftovers), *item.key)
        self.scheduler.observe(Integration.parse(body))

    async def _report_failure(self, key: Key, err: Exception) -> None:
        if isinstance(err, KubeError):
            message = f"The operator could not finish its work on this integration and retries: {err}"
            if err.status_code == 422:
                message += " (the API server refused the status; if the operator was upgraded, apply its new CRD)"
        else:
            message = f"Internal error in the operator ({type(err).__name__}); it retries, see its logs"
        if self._reported.get(key) == message:
            log.debug("Work on %s/%s failed again: %s", *key, message)
            return
        self._reported[key] = message
        if isinstance(err, KubeError):
            log.warning("Work on %s/%s failed: %s", *key, err)
        else:
            log.error("Work on %s/%s failed", *key, exc_info=err)
        item = self.scheduler.latest(key)
        if item is not None:
            await self.events.post(item, Reason.RECONCILE_FAILED, message)


def _changed_secrets(item: Integration, versions: dict[str, str]) -> list[str]:
    return sorted(name for name, version in versions.items() if item.status.paused_secret_version(name) != version)
