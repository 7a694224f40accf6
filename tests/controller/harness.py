"""Operator-in-the-loop test harness: KMock as the Kubernetes API (with RealisticEmulator), the
operator started inside the test body (never from an async fixture: kopf cancels tasks created
after it started, which would include pytest's fixture teardown), and helpers that change objects
through the HTTP API so watch events, resourceVersions and generations behave as in a cluster."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import kmock
from pydantic import SecretStr

from personio_operator.api import GROUP, KIND, PLURAL, SINGULAR, VERSION
from personio_operator.controller.clock import Clock
from personio_operator.controller.handlers import build_settings, run_operator
from personio_operator.controller.kube import KubeApi
from personio_operator.controller.reconciler import Reconciler
from personio_operator.controller.settings import OperatorSettings
from personio_operator.destinations import DestinationPolicy
from personio_operator.retrying import RetryPolicy
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, SandboxConfig, SandboxServer, generate_company

CRD = f"{GROUP}/{VERSION}/{PLURAL}"
NAMESPACE = "tenant-acme"
STATUS_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.05, backoff_max=0.1)  # the operator's own, shortened


def declare_resources(cluster: kmock.KubernetesEmulator) -> None:
    cluster.resources.load_bundled()  # CRDs, namespaces, events, secrets: kopf waits for them
    cluster.resources[CRD] = kmock.ResourceInfo(
        kind=KIND,
        singular=SINGULAR,
        namespaced=True,
        verbs={"get", "list", "watch", "patch", "create", "delete"},
        subresources={"status"},
    )


class Api:
    """The test's own view of the cluster, through the same HTTP API the operator uses."""

    def __init__(self, cluster: kmock.KubernetesEmulator) -> None:
        self.cluster = cluster
        self.http = httpx.AsyncClient(base_url=str(cluster.url).rstrip("/"), timeout=10)

    async def aclose(self) -> None:
        await self.http.aclose()

    def _integration_url(self, name: str = "") -> str:
        base = f"/apis/{GROUP}/{VERSION}/namespaces/{NAMESPACE}/{PLURAL}"
        return f"{base}/{name}" if name else base

    async def create_integration(
        self,
        name: str,
        spec: dict[str, Any],
        annotations: dict[str, str] | None = None,
        *,
        labels: dict[str, str] | None = None,
        finalizers: list[str] | None = None,
    ):
        metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE, "annotations": annotations or {}}
        if labels:
            metadata["labels"] = labels
        if finalizers:
            metadata["finalizers"] = finalizers
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": metadata, "spec": spec}
        response = await self.http.post(self._integration_url(), json=body)
        response.raise_for_status()
        return response.json()

    async def patch_spec(self, name: str, spec_patch: dict[str, Any]) -> dict[str, Any]:
        return await self._merge(self._integration_url(name), {"spec": spec_patch})

    async def annotate(self, name: str, key: str, value: str) -> dict[str, Any]:
        return await self._merge(self._integration_url(name), {"metadata": {"annotations": {key: value}}})

    async def delete(self, name: str) -> None:
        response = await self.http.delete(self._integration_url(name))
        response.raise_for_status()

    async def exists(self, name: str) -> bool:
        response = await self.http.get(self._integration_url(name))
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    async def write_status(self, name: str, status: dict[str, Any]) -> None:
        response = await self.http.patch(
            f"{self._integration_url(name)}/status",
            json={"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        response.raise_for_status()

    async def get(self, name: str) -> dict[str, Any]:
        response = await self.http.get(self._integration_url(name))
        response.raise_for_status()
        return response.json()

    async def status(self, name: str) -> dict[str, Any]:
        return (await self.get(name)).get("status") or {}

    async def put_secret(self, name: str, data: dict[str, str], namespace: str = NAMESPACE) -> dict[str, Any]:
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        url = f"/api/v1/namespaces/{namespace}/secrets"
        existing = await self.http.get(f"{url}/{name}")
        if existing.status_code == 200:
            return await self._merge(f"{url}/{name}", {"data": encoded})
        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}}
        response = await self.http.post(url, json={**body, "data": encoded})
        response.raise_for_status()
        return response.json()

    def events(self, name: str) -> list[dict[str, Any]]:
        """Events the operator posted about integration ``name``, oldest first."""
        found = []
        for _, obj in self.cluster.objects.items():
            if obj.get("kind") == "Event" or "involvedObject" in obj:
                raw = obj.raw
                if raw.get("involvedObject", {}).get("name") == name:
                    found.append(raw)
        return found

    def reasons(self, name: str) -> list[str]:
        return [event["reason"] for event in self.events(name)]

    async def _merge(self, url: str, patch: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.patch(url, json=patch, headers={"Content-Type": "application/merge-patch+json"})
        response.raise_for_status()
        return response.json()


async def eventually(probe: Callable[[], Any], *, within: float = 15.0, what: str = "condition") -> Any:
    """Poll ``probe`` (sync or async) until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last value: {last!r}")


async def stays(probe: Callable[[], Any], *, seconds: float, what: str = "condition") -> None:
    """Assert that ``probe`` stays truthy for ``seconds`` (for "nothing happens" checks, given the tick)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        assert value, f"{what} stopped holding"
        await asyncio.sleep(0.05)


LOCAL_SERVERS = "http://127.0.0.1:*"


def fast_settings(**overrides: Any) -> OperatorSettings:
    values: dict[str, Any] = {
        "retry_seconds": 0.2,
        "secret_check_seconds": 0.2,
        "metrics_port": None,
        "operator_namespace": "operators",
        # the tests' Personio sandbox and SCIM app listen on 127.0.0.1 (any port), which the default refuses
        "destinations": DestinationPolicy(personio_urls=(LOCAL_SERVERS,), scim_urls=(LOCAL_SERVERS,)),
    }
    values.update(overrides)
    return OperatorSettings(**values)


OPERATOR_TOKEN = "test-token"


@contextlib.asynccontextmanager
async def running_operator(
    cluster: kmock.KubernetesEmulator, settings: OperatorSettings, clock: Clock, *, token: str = OPERATOR_TOKEN
) -> AsyncIterator[Reconciler]:
    """Run the operator (kopf + our registry) against ``cluster`` until the block ends; it authenticates
    with ``token``, so its requests can be told apart from the test's own (which carry none).

    It runs in a thread with its own event loop, like kopf's KopfRunner: on exit kopf waits 5 s for
    every task created in its loop after it started, which in the test's loop would include
    KMock's request handlers."""
    import kopf

    reconciler = Reconciler(settings, clock=clock, kube=KubeApi(retry=STATUS_RETRY))
    server = str(cluster.url).rstrip("/")

    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=server, scheme="Bearer", token=token)

    kopf_settings = build_settings(label_selector=settings.label_selector)
    kopf_settings.watching.inactivity_timeout = 600
    stop = threading.Event()
    ready = threading.Event()
    operator = run_operator(
        reconciler, clusterwide=True, login=login, stop_flag=stop, ready_flag=ready, settings=kopf_settings
    )
    thread = asyncio.create_task(asyncio.to_thread(asyncio.run, operator))
    try:
        started = await asyncio.to_thread(ready.wait, 10)
        assert started, "the operator did not start within 10 s"
        yield reconciler
    finally:
        stop.set()
        await asyncio.wait_for(thread, 20)


def operator_requests(
    cluster: kmock.KubernetesEmulator, *, since: int = 0, token: str = OPERATOR_TOKEN
) -> list[kmock.Request]:
    """What the operator asked the API for, in order, from request number ``since`` on (see
    :func:`request_count`); the watch streams it keeps open are left out."""
    return [
        request
        for request in list(cluster)[since:]
        if request.headers.get("Authorization") == f"Bearer {token}"
        and request.action not in (kmock.action.WATCH, kmock.action.LIST)
        and request.resource is not None
        and request.resource.plural
    ]


def request_count(cluster: kmock.KubernetesEmulator) -> int:
    return len(list(cluster))


def described(request: kmock.Request) -> str:
    """'GET personiointegrations/acme', 'PATCH personiointegrations/acme/status', 'POST events', ..."""
    target = "/".join(part for part in (request.resource.plural, request.name, request.subresource) if part)
    return f"{str(request.method).upper().rsplit('.', 1)[-1]} {target}"


PERSONIO_SECRET = "personio-credentials"
SCIM_SECRET = "scim-bearer"  # not "scim-token": the scim_server fixture's token value, which redaction masks


def integration_spec(personio_url: str, scim_url: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "personio": {"credentialsSecretRef": {"name": PERSONIO_SECRET}, "baseUrl": personio_url},
        "target": {"scim": {"url": scim_url, "credentialsSecretRef": {"name": SCIM_SECRET}}},
        "teams": {"department": True},
        "notifications": {"emails": ["owner@acme.example"]},
    }
    spec.update(overrides)
    return spec


async def put_credentials(api: Api, *, client_secret: str, scim_token: str, client_id: str = DEFAULT_CLIENT_ID) -> None:
    await api.put_secret(PERSONIO_SECRET, {"clientId": client_id, "clientSecret": client_secret})
    await api.put_secret(SCIM_SECRET, {"token": scim_token})


@contextlib.asynccontextmanager
async def personio_company(*, client_secret: str, employees: int, seed: int) -> AsyncIterator[SandboxServer]:
    """A Personio sandbox without rate limits: a generated company, for the default client id and ``client_secret``."""
    config = SandboxConfig(rate_limits=False, client_secret=SecretStr(client_secret))
    async with SandboxServer(generate_company(employees=employees, seed=seed), config) as server:
        yield server
