"""Every object the chart renders, and the CRD it ships, is valid Kubernetes for the oldest and the newest
version the chart supports: checked against those versions' OpenAPI schemas (kubernetes-validate, which
ships them, so this runs offline), strictly (an unknown field is an error, as with `kubectl apply
--validate=strict`). Rendered with Helm's own engine for the default values, the multi-tenant values and a
set that switches every optional template and value on.

Supported range: Kubernetes >= 1.29. The CRD's CEL rules (x-kubernetes-validations) are GA from 1.29,
`trigger` asks SelfSubjectReview (GA from 1.28), and the e2e suite runs on 1.29 and later."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from packaging.version import Version

from tests.chart.conftest import CHART, render

OLDEST = "1.29"
NEWEST = "1.37"
VERSIONS = [OLDEST, NEWEST]

EVERYTHING_ON: dict[str, Any] = {
    "fullnameOverride": "hr-sync",
    "image": {"digest": "sha256:" + "ab" * 32, "pullPolicy": "Always"},
    "imagePullSecrets": [{"name": "registry-login"}],
    "watchNamespaces": ["tenant-acme", "tenant-globex"],
    "secrets": {"allowedNames": ["personio-credentials", "scim-token"], "requiredLabel": "hrsync.dev/use=allowed"},
    "serviceAccount": {"annotations": {"example.com/role": "hr-sync"}},
    "rbac": {"discovery": True},
    "operator": {
        "logFormat": "plain",
        "maxConcurrentRuns": 2,
        "extraArgs": ["--verbose"],
        "extraEnv": [{"name": "TZ", "value": "UTC"}],
    },
    "smtp": {"host": "smtp.example.com", "port": 465, "starttls": False, "from": "hr@example.com"}
    | {"existingSecret": "smtp-login"},
    "destinations": {"privateNetworks": ["10.20.0.0/16"], "scimUrls": ["https://*.apps.example.com"]},
    "metrics": {"port": 9191, "service": {"enabled": True, "type": "NodePort", "annotations": {"a.example/b": "c"}}},
    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
    "networkPolicy": {
        "enabled": True,
        "metricsFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "livenessFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
        "egress": {
            "restricted": True,
            "rules": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443, "protocol": "TCP"}]}],
        },
    },
    "podAnnotations": {"example.com/scrape": "true"},
    "podLabels": {"team": "hr"},
    "priorityClassName": "system-cluster-critical",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ops"]}]}]
            }
        }
    },
    "terminationGracePeriodSeconds": 120,
}

VALUE_SETS: dict[str, dict[str, Any] | None] = {
    "defaults": None,
    "multi-tenant": yaml.safe_load((CHART / "values-multitenant.yaml").read_text()),
    "everything-on": EVERYTHING_ON,
    "image-loaded-into-kind": {"image": {"repository": "personio-operator", "tag": "dev", "pullPolicy": "Never"}},
}


def schema_problem(obj: dict[str, Any], version: str) -> str | None:
    """Why the API server of ``version`` would refuse ``obj``, or None if its schema accepts it."""
    where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')!r} on Kubernetes {version}"
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as err:
        path = ".".join(str(part) for part in err.absolute_path)
        return f"{where}: {path}: {err.message}"
    except kubernetes_validate.SchemaNotFoundError as err:
        return f"{where}: {err.message}"
    return None


def _crd(chart: helm.Chart) -> dict[str, Any]:
    (crd_file,) = chart.crds
    return yaml.safe_load(crd_file["data"])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_rendered_object_is_valid_for_the_supported_kubernetes(
    chart: helm.Chart, values: dict[str, Any] | None, version: str
) -> None:
    objects = render(chart, values)
    assert objects
    problems = [problem for obj in objects if (problem := schema_problem(obj, version))]
    assert problems == []


@pytest.mark.parametrize("version", VERSIONS)
def test_the_crd_is_a_valid_custom_resource_definition(chart: helm.Chart, version: str) -> None:
    crd = _crd(chart)
    assert (crd["apiVersion"], crd["kind"]) == ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    assert schema_problem(crd, version) is None


def test_every_kind_a_template_can_render_is_validated(chart: helm.Chart) -> None:
    """The value sets above switch every template on at least once, so no object escapes validation."""
    template_kinds = {
        kind
        for path in (CHART / "templates").glob("*.yaml")
        for kind in re.findall(r"^kind: (\w+)$", Path(path).read_text(), flags=re.MULTILINE)
    }
    rendered_kinds = {obj["kind"] for values in VALUE_SETS.values() for obj in render(chart, values)}
    assert template_kinds == rendered_kinds


BROKEN = {
    "a misspelt Deployment field": (
        "Deployment",
        lambda obj: obj["spec"]["template"]["spec"].update(serviceAccount_Name="x"),
        "serviceAccount_Name",
    ),
    "a port given as a list": (
        "Deployment",
        lambda obj: obj["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(containerPort=[8080]),
        "containerPort",
    ),
    "an API version the server does not serve": (
        "ClusterRole",
        lambda obj: obj.update(apiVersion="rbac.authorization.k8s.io/v1alpha1"),
        "Couldn't find schema",
    ),
}


@pytest.mark.parametrize(("kind", "breakage", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_the_check_refuses_what_an_api_server_would(chart: helm.Chart, kind: str, breakage: Any, expected: str) -> None:
    obj = copy.deepcopy(next(obj for obj in render(chart) if obj["kind"] == kind))
    breakage(obj)
    for version in VERSIONS:
        problem = schema_problem(obj, version)
        assert problem is not None and expected in problem, problem


def test_the_check_refuses_a_crd_with_a_malformed_validation_rule(chart: helm.Chart) -> None:
    crd = _crd(chart)
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] = "x"
    problem = schema_problem(crd, NEWEST)
    assert problem is not None and "x-kubernetes-validations" in problem


def test_chart_kube_version_starts_at_the_oldest_validated_version(chart: helm.Chart) -> None:
    constraint = chart.metadata["kubeVersion"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)\.0-0", constraint)
    assert match, f"kubeVersion {constraint!r} should be '>=X.Y.0-0' (the -0 admits pre-release builds like EKS')"
    assert match.group(1) == OLDEST
    assert Version(NEWEST) <= Version(kubernetes_validate.latest_version())
