"""Paths and sample objects shared by the CRD tests (and the e2e test of the CRD)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COMMITTED_CRD = REPO / "crds" / "personiointegrations.hrsync.dev.yaml"
CHART_CRD = REPO / "charts" / "personio-operator" / "crds" / "personiointegrations.hrsync.dev.yaml"
EXAMPLES = REPO / "examples" / "cluster"


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
