"""kopf wiring: one registry per operator instance (no process-global handlers), its settings,
and :func:`run_operator` which ``personio-operator run`` and the tests start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

import kopf

from personio_operator.api import GROUP, PLURAL, VERSION
from personio_operator.controller.events import REPORTING_COMPONENT
from personio_operator.controller.reconciler import Reconciler
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION

log = logging.getLogger(__name__)

Login = Callable[..., kopf.ConnectionInfo | None]


def default_login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In-cluster service account, else the current kubeconfig context (via the kubernetes client)."""
    return kopf.login_via_client(**kwargs)


def _wants_ticks(body: Any, **_: Any) -> bool:
    """Inactive integrations need no timer once marked so (a pending Test or an interrupted run still do).
    An object that is not shaped as expected gets ticks: the tick reports what is wrong with it."""
    spec, status, meta = (body.get(part) or {} for part in ("spec", "status", "metadata"))
    annotations = (meta.get("annotations") or {}) if isinstance(meta, Mapping) else None
    if not all(isinstance(part, Mapping) for part in (spec, status, annotations)):
        return True
    if spec.get("active", True) is not False:
        return True
    return (
        status.get("phase") != "Inactive"
        or status.get("currentRun") is not None
        or annotations.get(TEST_REQUEST_ANNOTATION, status.get("lastHandledTestRequest"))
        != status.get("lastHandledTestRequest")
        or annotations.get(RUN_REQUEST_ANNOTATION, status.get("lastHandledRunRequest"))
        != status.get("lastHandledRunRequest")
    )


def build_registry(reconciler: Reconciler, *, login: Login = default_login) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def log_in(**kwargs: Any) -> kopf.ConnectionInfo | None:
        info = login(**kwargs)
        if info is not None:
            reconciler.kube.use(info)
        return info

    @kopf.on.startup(registry=registry)
    def start_metrics(**_: Any) -> None:
        port = reconciler.settings.metrics_port
        if port:
            bound = reconciler.metrics.serve(reconciler.settings.metrics_host, port)
            log.info("Metrics on http://%s:%d/metrics", reconciler.settings.metrics_host, bound)

    @kopf.on.cleanup(registry=registry)
    async def stop(**_: Any) -> None:
        await reconciler.shutdown()
        reconciler.metrics.stop()
        await reconciler.kube.aclose()

    @kopf.timer(
        GROUP,
        VERSION,
        PLURAL,
        id="tick",
        interval=reconciler.settings.tick_seconds,
        backoff=max(reconciler.settings.tick_seconds, 1.0),
        when=_wants_ticks,
        registry=registry,
    )
    async def tick(body: kopf.Body, **_: Any) -> None:
        await reconciler.tick(body)

    @kopf.on.delete(GROUP, VERSION, PLURAL, optional=True, registry=registry)
    def forget_deleted(meta: Any, **_: Any) -> None:
        reconciler.forget((meta["namespace"], meta["name"]))

    return registry


def build_settings(*, discovery: bool = False) -> kopf.OperatorSettings:
    """kopf's settings. Without ``discovery`` (the chart's default RBAC) kopf does not try to list or
    watch Namespaces and CRDs: it serves the namespaces it was given and the CRD present at start-up,
    instead of logging a minute of 403 errors while it retries."""
    settings = kopf.OperatorSettings()
    settings.scanning.disabled = not discovery
    settings.posting.reporting_component = REPORTING_COMPONENT
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    return settings


async def run_operator(
    reconciler: Reconciler,
    *,
    namespaces: Collection[str] = (),
    clusterwide: bool = False,
    standalone: bool = True,
    liveness_endpoint: str | None = None,
    login: Login = default_login,
    stop_flag: asyncio.Event | None = None,
    ready_flag: asyncio.Event | None = None,
    settings: kopf.OperatorSettings | None = None,
) -> None:
    """Run until ``stop_flag`` is set (or the process is signalled)."""
    if not namespaces and not clusterwide:
        clusterwide = True
    await kopf.operator(
        registry=build_registry(reconciler, login=login),
        settings=settings or build_settings(discovery=reconciler.settings.discovery),
        standalone=standalone,
        clusterwide=clusterwide,
        namespaces=list(namespaces),
        liveness_endpoint=liveness_endpoint,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
