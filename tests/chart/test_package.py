"""Helm's own linter accepts the chart, values.schema.json rejects bad values, and the chart ships
the generated CRD unchanged."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest
import yaml

from personio_operator.api.crd import CRD_FILENAME, build_crd
from tests.chart.conftest import CHART, REPO

LINT_VALUES = [
    None,
    {"watchNamespaces": ["tenant-acme"]},
    {"metrics": {"service": {"enabled": True}}, "smtp": {"host": "smtp.example", "existingSecret": "smtp-login"}},
]


@pytest.mark.parametrize("values", LINT_VALUES)
def test_helm_lint_strict_finds_nothing_above_info(values: dict[str, Any] | None) -> None:
    report = helm.lint(CHART, values, strict=True, namespace="personio-system", kube_version="v1.30.0")
    assert report["errors"] == []
    assert [message for message in report["messages"] if message["severity"] >= 2] == []


def test_helm_lint_can_fail() -> None:
    report = helm.lint(CHART, {"watchNamespaces": "tenant-acme"}, strict=True)
    assert report["errors"] or any(message["severity"] >= 3 for message in report["messages"])


def test_default_values_satisfy_the_schema(chart: helm.Chart) -> None:
    chart.validate_schema(None)
    chart.validate_schema(chart.values)


BAD_VALUES = {
    "typo in a key": ({"watchNamespace": ["a"]}, "watchNamespace"),
    "namespaces as a string": ({"watchNamespaces": "tenant-acme"}, "watchNamespaces"),
    "namespace that is no DNS label": ({"watchNamespaces": ["Tenant_Acme"]}, "watchNamespaces"),
    "duplicate namespace": ({"watchNamespaces": ["a", "a"]}, "watchNamespaces"),
    "port out of range": ({"smtp": {"port": 70000}}, "port"),
    "port as text": ({"metrics": {"port": "9090"}}, "port"),
    "unknown pull policy": ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    "zero concurrency": ({"operator": {"maxConcurrentRuns": 0}}, "maxConcurrentRuns"),
    "root user": ({"podSecurityContext": {"runAsNonRoot": False}}, "runAsNonRoot"),
    "privilege escalation": ({"securityContext": {"allowPrivilegeEscalation": True}}, "allowPrivilegeEscalation"),
    "bad secret name": ({"smtp": {"existingSecret": "SMTP Login"}}, "existingSecret"),
    "unknown metrics service type": ({"metrics": {"service": {"type": "Ingress"}}}, "type"),
}


@pytest.mark.parametrize(("values", "field"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_schema_rejects_bad_values_naming_the_field(chart: helm.Chart, values: dict[str, Any], field: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=field):
        chart.validate_schema(chart.merge_values(values))


def test_render_refuses_bad_values(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmError):
        chart.render(values={"watchNamespaces": "tenant-acme"}, name="po", namespace="personio-system")


def test_chart_ships_the_generated_crd(chart: helm.Chart) -> None:
    (crd_file,) = chart.crds
    assert crd_file["filename"].endswith(CRD_FILENAME)
    assert crd_file["data"] == (REPO / "crds" / CRD_FILENAME).read_text()
    assert yaml.safe_load(crd_file["data"]) == build_crd()
