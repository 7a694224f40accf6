"""The chart's RBAC grants exactly the API calls the operator really makes: every call it makes in a
run, a test, a failure, a pause with its Secret checks, a failure e-mail and the clean-up of what an
earlier version left on an object is allowed, and no rule grants a verb it never uses (KMock records
every request; the operator's carry its bearer token).
The SMTP login comes from files the chart mounts: the operator never asks the API for it. With the
chart's default RBAC (no rbac.discovery) start-up logs no errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import helm_python as helm
import kmock
import kopf
import pytest

from personio_operator.controller.handlers import run_operator
from personio_operator.controller.integration import LEGACY_ANNOTATIONS, LEGACY_FINALIZER
from personio_operator.controller.kube import KubeApi
from personio_operator.controller.reconciler import Reconciler
from personio_operator.controller.settings import SmtpSettings
from personio_operator.controller.triggers import TEST_REQUEST_ANNOTATION
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.chart.conftest import CHART, render
from tests.controller.harness import (
    NAMESPACE,
    STATUS_RETRY,
    Api,
    eventually,
    fast_settings,
    integration_spec,
    put_credentials,
    running_operator,
)
from tests.controller.test_operator_failures import spec as failing_spec

_VERBS = {
    kmock.action.FETCH: "get",
    kmock.action.LIST: "list",
    kmock.action.WATCH: "watch",
    kmock.action.CREATE: "create",
    kmock.action.DELETE: "delete",
}
# kopf lists/watches CRDs and namespaces only with the chart's optional `rbac.discovery` rules
# (checked in tests/chart); without them the operator tells kopf not to try.
_DISCOVERY = {"apiextensions.k8s.io", "namespaces"}


def _operator_calls(cluster: kmock.KubernetesEmulator) -> set[tuple[str, str, str]]:
    """(apiGroup, resource[/subresource], verb) of every request made with the operator's token."""
    calls = set()
    for request in list(cluster):
        if not request.headers.get("Authorization") or request.resource is None or request.action is None:
            continue
        if not request.resource.plural:
            continue  # API discovery (/api/v1, /apis/<group>/<version>): open to every authenticated user
        resource = request.resource.plural or ""
        if request.subresource:
            resource = f"{resource}/{request.subresource}"
        verb = _VERBS.get(request.action) or ("patch" if str(request.method).upper().endswith("PATCH") else "update")
        calls.add((request.resource.group or "", resource, verb))
    return calls


def _granted(values: dict) -> set[tuple[str, str, str]]:
    with helm.Chart.load(CHART) as chart:
        objects = render(chart, values)
    return {
        (group, resource, verb)
        for role in objects
        if role["kind"] in ("Role", "ClusterRole") and not role["metadata"]["name"].endswith("-discovery")
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token="rbac-scim-token")


async def test_chart_rbac_is_exactly_what_the_operator_calls(
    cluster, api: Api, clock, personio, app, smtp, tmp_path
) -> None:
    _, port = smtp
    (tmp_path / "username").write_text("operator")
    (tmp_path / "password").write_text("smtp-password")
    settings = fast_settings(
        smtp=SmtpSettings(
            host="127.0.0.1",
            port=port,
            starttls=False,
            username_file=tmp_path / "username",
            password_file=tmp_path / "password",
        )
    )
    # What an earlier version left on an object (its finalizer, kopf's annotations): removed with `patch`.
    await api.create_integration(
        "old",
        integration_spec(personio.base_url, app.url, active=False),
        annotations=dict.fromkeys(LEGACY_ANNOTATIONS, "{}"),
        finalizers=[LEGACY_FINALIZER],
    )
    async with running_operator(cluster, settings, clock):
        await eventually(lambda: _cleaned(api, "old"), what="the old object cleaned up")
        # A failure (no Secrets yet): pause, Warning Events, e-mail with the SMTP login, Secret checks.
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(lambda: "Paused" in api.reasons("acme"), what="the pause")
        await put_credentials(
            api, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, scim_token="rbac-scim-token"
        )
        await eventually(lambda: "Resumed" in api.reasons("acme"), what="resume after the Secret check")
        # A test and a successful run.
        await api.annotate("acme", TEST_REQUEST_ANNOTATION, "now by rbac@acme.example")
        await eventually(lambda: "TestSucceeded" in api.reasons("acme"), what="the test")
        await api.annotate("acme", "hrsync.dev/run-requested-at", "now by rbac@acme.example")
        await eventually(lambda: "RunSucceeded" in api.reasons("acme"), what="the run")

    assert [request for request in list(cluster) if request.namespace == "operators"] == []
    used = _operator_calls(cluster)
    assert {call for call in used if _DISCOVERY & {call[0], call[1]}} == set(), "discovery without rbac.discovery"
    granted = _granted({"smtp": {"host": "smtp.example", "existingSecret": "smtp-login"}})
    assert used - granted == set(), "the operator makes calls the chart does not allow"
    assert granted - used == set(), "the chart grants what the operator never does"


async def _cleaned(api: Api, name: str) -> bool:
    meta = (await api.get(name))["metadata"]
    return not meta.get("finalizers") and not (LEGACY_ANNOTATIONS & set(meta.get("annotations") or {}))


def _discovery(request: kmock.Request) -> bool:
    """kopf listing or watching Namespaces or CRDs: the chart grants it only with rbac.discovery."""
    plural = request.resource.plural if request.resource is not None else None
    return plural in ("namespaces", "customresourcedefinitions") and request.action in (
        kmock.action.LIST,
        kmock.action.WATCH,
    )


@contextlib.asynccontextmanager
async def _operator(cluster: kmock.KubernetesEmulator, clock, *, clusterwide: bool, discovery: bool):
    """The operator as `personio-operator run` starts it: kopf's settings from the operator's settings."""
    settings = fast_settings(discovery=discovery)
    reconciler = Reconciler(settings, clock=clock, kube=KubeApi(retry=STATUS_RETRY))
    server = str(cluster.url).rstrip("/")
    stop, ready = threading.Event(), threading.Event()
    operator = run_operator(
        reconciler,
        namespaces=() if clusterwide else [NAMESPACE],
        clusterwide=clusterwide,
        login=lambda **_: kopf.ConnectionInfo(server=server, scheme="Bearer", token="test-token"),
        stop_flag=stop,
        ready_flag=ready,
    )
    thread = asyncio.create_task(asyncio.to_thread(asyncio.run, operator))
    try:
        assert await asyncio.to_thread(ready.wait, 10), "the operator did not start within 10 s"
        yield
    finally:
        stop.set()
        await asyncio.wait_for(thread, 20)


@pytest.mark.parametrize("clusterwide", [True, False], ids=["all-namespaces", "namespaced"])
async def test_start_up_logs_no_errors_with_the_charts_default_rbac(cluster, api: Api, clock, caplog, clusterwide):
    """Without rbac.discovery the API answers 403 to listing Namespaces and CRDs: kopf must not try."""
    cluster[_discovery] << 403
    caplog.set_level(logging.INFO)
    async with _operator(cluster, clock, clusterwide=clusterwide, discovery=False):
        await api.create_integration("acme", failing_spec())  # no Secrets: the activation run fails
        await eventually(lambda: "RunFailed" in api.reasons("acme"), what="the operator to serve the integration")
    assert [request for request in list(cluster) if _discovery(request)] == []
    assert [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_with_discovery_kopf_does_list_namespaces_and_crds(cluster, api: Api, clock, caplog):
    """The counterpart: rbac.discovery=true tells kopf to scan (so a 403 there would be logged)."""
    cluster[_discovery] << 403
    caplog.set_level(logging.INFO)
    async with _operator(cluster, clock, clusterwide=False, discovery=True):
        await eventually(
            lambda: [r for r in caplog.records if r.levelno >= logging.ERROR and "403" in r.getMessage()],
            what="kopf's error about the forbidden listing",
        )
    assert [request for request in list(cluster) if _discovery(request)]
