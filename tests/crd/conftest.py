from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMMITTED_CRD = REPO / "crds" / "personiointegrations.hrsync.dev.yaml"
CHART_CRD = REPO / "charts" / "personio-operator" / "crds" / "personiointegrations.hrsync.dev.yaml"
EXAMPLES = REPO / "examples" / "cluster"


@pytest.fixture(scope="session")
def committed_crd() -> dict[str, Any]:
    documents = [doc for doc in yaml.safe_load_all(COMMITTED_CRD.read_text()) if doc]
    assert len(documents) == 1, f"{COMMITTED_CRD} must hold exactly one document"
    return documents[0]


@pytest.fixture(scope="session")
def resource_schema(committed_crd: dict[str, Any]) -> dict[str, Any]:
    return committed_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def minimal_integration(**spec: Any) -> dict[str, Any]:
    """The smallest valid PersonioIntegration, with ``spec`` fields added or replaced."""
    return {
        "apiVersion": "hrsync.dev/v1alpha1",
        "kind": "PersonioIntegration",
        "metadata": {"name": "acme", "namespace": "tenant-acme"},
        "spec": {
            "personio": {"credentialsSecretRef": {"name": "personio-credentials"}},
            "target": {"scim": {"url": "https://app.example/scim/v2", "credentialsSecretRef": {"name": "scim"}}},
            **spec,
        },
    }
