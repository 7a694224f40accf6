"""The operator against a real cluster: apply the CRD from crds/, start the Personio sandbox and a
SCIM server on 127.0.0.1, run ``personio-operator run`` as a local process (a pod could not reach
the test machine's 127.0.0.1), apply examples/cluster/local-sandbox.yaml pointed at those servers,
and check status, Events, ``kubectl describe``, the trigger CLI, pause/resume on a Secret change, that
switching an integration off shows Inactive within 5 s, and that objects carry no finalizer: a namespace
deleted while the operator is stopped goes away.

Runs only with PERSONIO_OPERATOR_E2E=1 and a KUBECONFIG pointing at a disposable cluster (kind);
needs ``kubectl`` on PATH. The operator's log goes to a file (a pipe nobody reads would block it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from personio_operator.api import GROUP, PLURAL, VERSION
from personio_operator.controller.triggers import TEST_REQUEST_ANNOTATION, format_request
from tests.e2e.conftest import ROOT, poll, requires_cluster

pytestmark = [pytest.mark.e2e, requires_cluster]

EXAMPLE = ROOT / "examples" / "cluster" / "local-sandbox.yaml"
CLI = [sys.executable, "-c", "from personio_operator.cli import main; main()"]
SECRET_KEYS = {"clientSecret", "token"}  # the credentials; client ids and Secret names may be logged
WRONG_TOKEN = "e2e-wrong-token-value"
REQUESTER = "e2e@example.test"


def _documents() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(EXAMPLE.read_text()) if doc]


def _secret_values() -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc["stringData"] for doc in _documents() if doc["kind"] == "Secret"}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Any, Any]]:
    from pydantic import SecretStr

    from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
    from personio_testkit.scim_app import ScimTestServer

    secrets = _secret_values()
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


class Operator:
    """``personio-operator run`` as a local process, its log in a file."""

    def __init__(self, namespace: str, log: Path) -> None:
        self.namespace = namespace
        self.log = log
        env = {
            **os.environ,
            "PERSONIO_OPERATOR_SECRET_CHECK_SECONDS": "2",
            "PERSONIO_OPERATOR_METRICS_PORT": "0",
            # the sandbox and the SCIM app run on this machine's 127.0.0.1, which the default refuses
            "PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS": "http://127.0.0.1:*",
            "PERSONIO_OPERATOR_ALLOWED_SCIM_URLS": "http://127.0.0.1:*",
        }
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                [*CLI, "run", "--namespace", namespace, "--log-format=plain"],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        code = self.process.poll()
        assert code is None, f"the operator exited with code {code}:\n{self.output()[-4000:]}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    namespace = next(doc for doc in _documents() if doc["kind"] == "Namespace")["metadata"]["name"]
    running = Operator(namespace, tmp_path_factory.mktemp("operator") / "operator.log")
    try:
        yield running
    finally:
        running.stop()
    output = running.output()
    for name, values in _secret_values().items():
        for key in SECRET_KEYS & values.keys():
            assert values[key] not in output, f"the value of Secret {name} key {key} appeared in the operator's log"
    assert WRONG_TOKEN not in output, "the wrong token appeared in the operator's log"


@pytest.fixture(scope="module")
def applied(kube: Any, crd_applied: dict, servers: tuple[Any, Any], operator: Operator) -> Iterator[dict[str, Any]]:
    """The example, pointed at the local servers, applied while the operator runs."""
    personio, app = servers
    documents = _documents()
    integration = next(doc for doc in documents if doc["kind"] == "PersonioIntegration")
    integration["spec"]["personio"]["baseUrl"] = personio.base_url
    integration["spec"]["target"]["scim"]["url"] = app.url
    namespace = integration["metadata"]["namespace"]
    core, custom = kube.CoreV1Api(), kube.CustomObjectsApi()
    # A namespace left Terminating by a previous run refuses new objects (403): wait until it is gone.
    poll(
        lambda: _namespace_gone_or_active(core, namespace),
        within=120,
        what=f"namespace {namespace} to finish terminating",
    )
    for doc in documents:
        if doc["kind"] == "Namespace":
            _ignore_conflict(lambda doc=doc: core.create_namespace(doc))
        elif doc["kind"] == "Secret":
            _ignore_conflict(lambda doc=doc: core.create_namespaced_secret(namespace, doc))
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, integration)
    try:
        yield integration
    finally:
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, integration["metadata"]["name"])
        poll(lambda: not _exists(custom, integration), within=60, what="the integration to be deleted")
        core.delete_namespace(namespace)
        poll(lambda: _namespace_gone(core, namespace), within=120, what=f"namespace {namespace} to be gone")


def _namespace_gone(core: Any, name: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        core.read_namespace(name)
    except ApiException as err:
        if err.status == 404:
            return True
        raise
    return False


def _namespace_gone_or_active(core: Any, name: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        return core.read_namespace(name).status.phase != "Terminating"
    except ApiException as err:
        if err.status == 404:
            return True
        raise


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


def _events(kube: Any, integration: dict[str, Any]) -> list[Any]:
    meta = integration["metadata"]
    return (
        kube.CoreV1Api()
        .list_namespaced_event(meta["namespace"], field_selector=f"involvedObject.name={meta['name']}")
        .items
    )


def _has_event(kube: Any, integration: dict[str, Any], reason: str, type_: str = "Normal") -> bool:
    return any(
        e.reason == reason and e.type == type_ and e.source and e.source.component == "personio-operator"
        for e in _events(kube, integration)
    )


def _settled(kube: Any, integration: dict[str, Any], operator: Operator, history: int) -> dict[str, Any] | None:
    operator.alive()
    status = _status(kube, integration)
    return status if len(status.get("history", [])) >= history and not status.get("currentRun") else None


def _kubectl(*args: str) -> str:
    assert shutil.which("kubectl"), "the e2e tests need kubectl on PATH (it reads the same KUBECONFIG)"
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def test_activation_run_status_events_and_describe(kube: Any, applied: dict[str, Any], servers, operator) -> None:
    _, app = servers
    meta = applied["metadata"]
    status = poll(lambda: _settled(kube, applied, operator, 1), within=120, what="the activation run")
    entry = status["history"][0]
    assert entry["trigger"] == "Activation"
    assert entry["result"] == "Succeeded", entry
    assert entry["users"]["created"] == len(app.users()) > 0
    assert status["phase"] == "Active"
    assert status["nextRunTime"]
    poll(lambda: _has_event(kube, applied, "RunSucceeded"), within=30, what="the RunSucceeded Event")

    def described() -> str | None:
        text = _kubectl("describe", "personiointegration", meta["name"], "-n", meta["namespace"])
        return text if "RunSucceeded" in text else None  # Events come last and may lag the status

    text = poll(described, within=30, what="kubectl describe to list the RunSucceeded Event")
    for expected in ("Phase:", "Active", "Last Run Result:", "Succeeded", "History:", "Next Run Time:"):
        assert expected in text, f"{expected!r} missing from kubectl describe:\n{text}"
    for values in _secret_values().values():
        assert not any(values[key] in text for key in SECRET_KEYS & values.keys()), "a secret in kubectl describe"
    table = _kubectl("get", "pi", meta["name"], "-n", meta["namespace"])
    for column in ("ACTIVE", "PHASE", "LAST RUN", "RESULT", "NEXT RUN", "AGE"):
        assert column in table, f"printer column {column} missing:\n{table}"


def test_test_annotation_on_cluster(kube: Any, applied: dict[str, Any], operator) -> None:
    meta = applied["metadata"]
    request = format_request(datetime.now(UTC), REQUESTER)
    patch = {"metadata": {"annotations": {TEST_REQUEST_ANNOTATION: request}}}
    kube.CustomObjectsApi().patch_namespaced_custom_object(
        GROUP, VERSION, meta["namespace"], PLURAL, meta["name"], patch
    )

    def handled() -> dict[str, Any] | None:
        operator.alive()
        status = _status(kube, applied)
        return status if status.get("lastHandledTestRequest") == request else None

    status = poll(handled, within=120, what="the test result")
    assert status["lastTest"]["result"] == "Passed", status["lastTest"]
    assert status["lastTest"]["startedBy"] == REQUESTER


def test_failed_run_pauses_and_a_fixed_secret_resumes(kube: Any, applied: dict[str, Any], operator) -> None:
    """A wrong SCIM token, a run asked for with the trigger CLI, a pause; the fixed Secret resumes."""
    meta = applied["metadata"]
    core = kube.CoreV1Api()
    token_secret = applied["spec"]["target"]["scim"]["credentialsSecretRef"]["name"]
    good_token = _secret_values()[token_secret]["token"]

    core.patch_namespaced_secret(token_secret, meta["namespace"], {"stringData": {"token": WRONG_TOKEN}})
    trigger = subprocess.run(
        [*CLI, "trigger", "run", meta["name"], "-n", meta["namespace"], "--as-user", REQUESTER, "--wait"],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ,
    )
    assert trigger.returncode == 1, trigger.stdout + trigger.stderr  # --wait: the run failed
    assert "Failed" in trigger.stdout, trigger.stdout

    def manual_run_done() -> tuple[dict[str, Any], dict[str, Any]] | None:
        # The example's schedule (every 5 minutes) may add a scheduled run around this one.
        status = _settled(kube, applied, operator, 1) or {}
        entry = next((e for e in status.get("history", []) if e["startedBy"] == REQUESTER), None)
        return (status, entry) if entry else None

    status, entry = poll(manual_run_done, within=60, what="the manual run")
    assert (entry["trigger"], entry["result"]) == ("Manual", "Failed"), entry
    assert status["phase"] == "Paused" and status["pausedGeneration"] is not None
    assert WRONG_TOKEN not in str(status)
    poll(lambda: _has_event(kube, applied, "Paused", "Warning"), within=30, what="the Paused warning Event")

    core.patch_namespaced_secret(token_secret, meta["namespace"], {"stringData": {"token": good_token}})
    status = poll(
        lambda: (s := _status(kube, applied)).get("pausedGeneration") is None and s,
        within=60,
        what="resume after the Secret changed",
    )
    assert status["phase"] in ("Active", "Failing")
    assert status["nextRunTime"]
    poll(lambda: _has_event(kube, applied, "Resumed"), within=30, what="the Resumed Event")


def test_switched_off_shows_inactive_within_five_seconds(kube: Any, applied: dict[str, Any], operator) -> None:
    """The watch event is acted on at once: no timer to wait for (a separate integration, so the others'
    history stays as the tests above expect)."""
    meta = applied["metadata"]
    custom = kube.CustomObjectsApi()
    toggle = {**applied, "metadata": {"name": "toggle", "namespace": meta["namespace"]}}
    custom.create_namespaced_custom_object(GROUP, VERSION, meta["namespace"], PLURAL, toggle)
    try:
        poll(lambda: _settled(kube, toggle, operator, 1), within=120, what="the toggle integration's activation run")
        assert not custom.get_namespaced_custom_object(GROUP, VERSION, meta["namespace"], PLURAL, "toggle")[
            "metadata"
        ].get("finalizers"), "the operator put a finalizer on the integration"
        patch = {"spec": {"active": False}}
        custom.patch_namespaced_custom_object(GROUP, VERSION, meta["namespace"], PLURAL, "toggle", patch)
        status = poll(
            lambda: (s := _status(kube, toggle)).get("phase") == "Inactive" and s,
            within=5,
            interval=0.2,
            what="phase Inactive within 5 s of switching off",
        )
        assert status["nextRun"].startswith("none while inactive")
    finally:
        custom.delete_namespaced_custom_object(GROUP, VERSION, meta["namespace"], PLURAL, "toggle")


GONE_NAMESPACE = "personio-e2e-gone"


def test_a_namespace_deleted_while_the_operator_is_stopped_goes_away(
    kube: Any, crd_applied: dict, servers: tuple[Any, Any], tmp_path: Path
) -> None:
    """No finalizer holds an integration: its namespace is deleted without the operator (earlier versions
    left it Terminating until the operator came back)."""
    personio, app = servers
    core, custom = kube.CoreV1Api(), kube.CustomObjectsApi()
    poll(lambda: _namespace_gone(core, GONE_NAMESPACE), within=120, what=f"namespace {GONE_NAMESPACE} from before")
    documents = _documents()
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": GONE_NAMESPACE}})
    for doc in documents:
        if doc["kind"] == "Secret":
            secret = {**doc, "metadata": {**doc["metadata"], "namespace": GONE_NAMESPACE}}
            core.create_namespaced_secret(GONE_NAMESPACE, secret)
    integration = next(doc for doc in documents if doc["kind"] == "PersonioIntegration")
    integration = {**integration, "metadata": {"name": "gone", "namespace": GONE_NAMESPACE}}
    integration["spec"] = {
        **integration["spec"],
        "personio": {**integration["spec"]["personio"], "baseUrl": personio.base_url},
        "target": {"scim": {**integration["spec"]["target"]["scim"], "url": app.url}},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, GONE_NAMESPACE, PLURAL, integration)
    served = Operator(GONE_NAMESPACE, tmp_path / "operator.log")
    try:
        poll(lambda: _settled(kube, integration, served, 1), within=120, what="the activation run")
    finally:
        served.stop()
    core.delete_namespace(GONE_NAMESPACE)
    poll(lambda: _namespace_gone(core, GONE_NAMESPACE), within=60, what="the namespace gone without the operator")
