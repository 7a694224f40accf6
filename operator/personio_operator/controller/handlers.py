"""kopf wiring: one registry per operator instance (no process-global handlers), its settings, and
:func:`run_operator`, which ``personio-operator run`` and the tests start.

kopf only watches: every watch event goes to the reconciler (``@kopf.on.event``), whose one scheduler
task decides what to do and when. There is no timer, daemon or change handler, so kopf puts no finalizer
on any object and writes no state into annotations; an integration or its namespace is deleted without
waiting for the operator. kopf's finalizer setting still names the finalizer earlier versions added: kopf
removes it from every object it sees, because no handler needs it any more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

import kopf

from personio_operator.api import GROUP, PLURAL, VERSION
from personio_operator.controller.events import REPORTING_COMPONENT
from personio_operator.controller.integration import LEGACY_FINALIZER
from personio_operator.controller.reconciler import Reconciler

log = logging.getLogger(__name__)

Login = Callable[..., kopf.ConnectionInfo | None]


def default_login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In-cluster service account, else the current kubeconfig context (via the kubernetes client)."""
    return kopf.login_via_client(**kwargs)


def build_registry(reconciler: Reconciler, *, login: Login = default_login) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def log_in(**kwargs: Any) -> kopf.ConnectionInfo | None:
        info = login(**kwargs)
        if info is not None:
            reconciler.kube.use(info)
        return info

    @kopf.on.startup(registry=registry)
    async def start(**_: Any) -> None:
        port = reconciler.settings.metrics_port
        if port:
            bound = reconciler.metrics.serve(reconciler.settings.metrics_host, port)
            log.info("Metrics on http://%s:%d/metrics", reconciler.settings.metrics_host, bound)
        reconciler.start()

    @kopf.on.cleanup(registry=registry)
    async def stop(**_: Any) -> None:
        await reconciler.shutdown()
        reconciler.metrics.stop()
        await reconciler.kube.aclose()

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def observe(event: kopf.RawEvent, **_: Any) -> None:
        reconciler.observe(event["type"], event["object"])

    return registry


def build_settings(*, discovery: bool = False, label_selector: str | None = None) -> kopf.OperatorSettings:
    """kopf's settings. Without ``discovery`` (the chart's default RBAC) kopf does not try to list or
    watch Namespaces and CRDs: it serves the namespaces it was given and the CRD present at start-up,
    instead of logging a minute of 403 errors while it retries. ``label_selector`` filters the watch
    on the API server: this operator sees (and serves) only the integrations it selects."""
    settings = kopf.OperatorSettings()
    settings.scanning.disabled = not discovery
    settings.posting.reporting_component = REPORTING_COMPONENT
    settings.persistence.finalizer = LEGACY_FINALIZER
    if label_selector:
        settings.watching.label_selectors[GROUP, PLURAL] = label_selector
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
        settings=settings
        or build_settings(discovery=reconciler.settings.discovery, label_selector=reconciler.settings.label_selector),
        standalone=standalone,
        clusterwide=clusterwide,
        namespaces=list(namespaces),
        liveness_endpoint=liveness_endpoint,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
