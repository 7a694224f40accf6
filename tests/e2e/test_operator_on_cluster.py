"""The operator against a real cluster: apply the CRD from crds/, start the Personio sandbox and a
SCIM server on 127.0.0.1, run ``personio-operator run`` as a local process, apply
examples/cluster/local-sandbox.yaml (pointed at those servers), and check status, Events and
``kubectl describe``.

Runs only with PERSONIO_OPERATOR_E2E=1 and a KUBECONFIG pointing at a disposable cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from personio_operator.api import GROUP, PLURAL, VERSION
from personio_operator.controller.triggers import TEST_REQUEST_ANNOTATION, format_request

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("PERSONIO_OPERATOR_E2E") != "1" or not os.environ.get("KUBECONFIG"),
        reason="needs PERSONIO_OPERATOR_E2E=1 and KUBECONFIG (a disposable cluster)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cluster" / "local-sandbox.yaml"
CRD_FILE = next((ROOT / "crds").glob("*.yaml"), None)


def poll(probe: Callable[[], Any], *, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="module")
def kube() -> Any:
    from kubernetes import client, config

    config.load_kube_config()
    return client


@pytest.fixture(scope="module")
def crd(kube: Any) -> None:
    assert CRD_FILE is not None, "crds/ holds no CRD; run `personio-operator crd`"
    body = yaml.safe_load(CRD_FILE.read_text())
    extensions = kube.ApiextensionsV1Api()
    extensions.patch_custom_resource_definition(
        body["metadata"]["name"],
        body,
        field_manager="personio-operator-e2e",
        force=True,
        _content_type="application/apply-patch+yaml",
    )
    poll(
        lambda: any(
            c.type == "Established" and c.status == "True"
            for c in extensions.read_custom_resource_definition(body["metadata"]["name"]).status.conditions or []
        ),
        within=60,
        what="the CRD to be Established",
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Any, Any]]:
    from pydantic import SecretStr

    from personio_operator.personio.sandbox import SandboxConfig, SandboxServer, generate_company
    from personio_operator.target.testserver import ScimTestServer

    documents = list(yaml.safe_load_all(EXAMPLE.read_text()))
    secrets = {doc["metadata"]["name"]: doc["stringData"] for doc in documents if doc["kind"] == "Secret"}
    personio_secret = secrets["personio-sandbox-credentials"]
    config = SandboxConfig(
        rate_limits=False,
        client_id=personio_secret["clientId"],
        client_secret=SecretStr(personio_secret["clientSecret"]),
    )
    with SandboxServer(generate_company(employees=25, seed=3), config) as personio:
        app = ScimTestServer(token=secrets["scim-test-token"]["token"]).start()
        try:
            yield personio, app
        finally:
            app.stop()


@pytest.fixture(scope="module")
def applied(kube: Any, crd: None, servers: tuple[Any, Any]) -> Iterator[dict[str, Any]]:
    """The example, pointed at the local servers, applied; the operator running as a local process."""
    personio, app = servers
    documents = list(yaml.safe_load_all(EXAMPLE.read_text()))
    integration = next(doc for doc in documents if doc["kind"] == "PersonioIntegration")
    integration["spec"]["personio"]["baseUrl"] = personio.base_url
    integration["spec"]["target"]["scim"]["url"] = app.url
    namespace = integration["metadata"]["namespace"]
    core, custom = kube.CoreV1Api(), kube.CustomObjectsApi()
    for doc in documents:
        if doc["kind"] == "Namespace":
            _ignore_conflict(lambda doc=doc: core.create_namespace(doc))
        elif doc["kind"] == "Secret":
            _ignore_conflict(lambda doc=doc: core.create_namespaced_secret(namespace, doc))

    env = {**os.environ, "PERSONIO_OPERATOR_TICK_SECONDS": "2", "PERSONIO_OPERATOR_METRICS_PORT": "0"}
    command = [sys.executable, "-c", "from personio_operator.cli import main; main()", "run", "-n", namespace]
    operator = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, integration)
        yield integration
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, integration["metadata"]["name"])
        poll(lambda: not _exists(custom, integration), within=60, what="the integration to be deleted")
    finally:
        operator.terminate()
        try:
            output, _ = operator.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            operator.kill()
            output, _ = operator.communicate()
        for secret in ("sandbox-secret", "scim-test-token"):
            assert secret not in output, "a secret appeared in the operator's log"
        core.delete_namespace(namespace)


def _exists(custom: Any, integration: dict[str, Any]) -> bool:
    from kubernetes.client.exceptions import ApiException

    meta = integration["metadata"]
    try:
        custom.get_namespaced_custom_object(GROUP, VERSION, meta["namespace"], PLURAL, meta["name"])
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    return True


def _ignore_conflict(create: Callable[[], Any]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create()
    except ApiException as err:
        if err.status != 409:
            raise


def _status(kube: Any, integration: dict[str, Any]) -> dict[str, Any]:
    meta = integration["metadata"]
    obj = kube.CustomObjectsApi().get_namespaced_custom_object(GROUP, VERSION, meta["namespace"], PLURAL, meta["name"])
    return obj.get("status") or {}


def test_activation_run_status_events_and_describe(kube: Any, applied: dict[str, Any], servers) -> None:
    _, app = servers
    meta = applied["metadata"]
    status = poll(
        lambda: (s := _status(kube, applied)).get("history") and not s.get("currentRun") and s,
        within=120,
        what="the activation run",
    )
    entry = status["history"][0]
    assert entry["trigger"] == "Activation"
    assert entry["result"] == "Succeeded", entry
    assert entry["users"]["created"] == len(app.users()) > 0
    assert status["phase"] == "Active"
    assert status["nextRunTime"]

    events = kube.CoreV1Api().list_namespaced_event(
        meta["namespace"], field_selector=f"involvedObject.name={meta['name']}"
    )
    reasons = {(e.reason, e.source.component if e.source else None) for e in events.items}
    assert ("RunSucceeded", "personio-operator") in reasons

    if shutil.which("kubectl"):
        described = subprocess.run(
            ["kubectl", "describe", "personiointegration", meta["name"], "-n", meta["namespace"]],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for text in ("Phase:", "Active", "Last Run Result:", "Succeeded", "History:", "RunSucceeded"):
            assert text in described, f"{text!r} missing from kubectl describe:\n{described}"
        assert "sandbox-secret" not in described


def test_test_annotation_on_cluster(kube: Any, applied: dict[str, Any]) -> None:
    meta = applied["metadata"]
    request = format_request(datetime.now(UTC), "e2e@example.test")
    patch = {"metadata": {"annotations": {TEST_REQUEST_ANNOTATION: request}}}
    kube.CustomObjectsApi().patch_namespaced_custom_object(
        GROUP, VERSION, meta["namespace"], PLURAL, meta["name"], patch
    )
    status = poll(
        lambda: (s := _status(kube, applied)).get("lastHandledTestRequest") == request and s,
        within=120,
        what="the test result",
    )
    assert status["lastTest"]["result"] == "Passed", status["lastTest"]
    assert status["lastTest"]["startedBy"] == "e2e@example.test"
