"""Shared parts of the end-to-end tests against the cluster in KUBECONFIG: the opt-in switch, the
Kubernetes client, the CRD from crds/ applied server-side, and polling with a deadline."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from personio_operator.api.crd import CRD_FILENAME

ROOT = Path(__file__).resolve().parents[2]
CRD_FILE = ROOT / "crds" / CRD_FILENAME
FIELD_MANAGER = "personio-operator-e2e"

requires_cluster = pytest.mark.skipif(
    os.environ.get("PERSONIO_OPERATOR_E2E") != "1" or not os.environ.get("KUBECONFIG"),
    reason="needs PERSONIO_OPERATOR_E2E=1 and KUBECONFIG (a disposable cluster)",
)


def poll(probe: Callable[[], Any], *, within: float, what: str, interval: float = 1.0) -> Any:
    """Call ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="session")
def kube() -> Any:
    """The ``kubernetes.client`` module, configured from KUBECONFIG."""
    from kubernetes import client, config

    config.load_kube_config()
    return client


@pytest.fixture(scope="session")
def crd_applied(kube: Any) -> dict[str, Any]:
    """The committed CRD (tests/crd keeps it equal to the models), applied and Established."""
    body = yaml.safe_load(CRD_FILE.read_text())
    name = body["metadata"]["name"]
    extensions = kube.ApiextensionsV1Api()
    extensions.patch_custom_resource_definition(
        name, body, field_manager=FIELD_MANAGER, force=True, _content_type="application/apply-patch+yaml"
    )
    poll(
        lambda: any(
            c.type == "Established" and c.status == "True"
            for c in extensions.read_custom_resource_definition(name).status.conditions or []
        ),
        within=60,
        interval=0.5,
        what=f"CRD {name} to be Established",
    )
    return body
