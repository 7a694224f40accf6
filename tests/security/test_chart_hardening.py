"""The chart as Helm renders it, hardened where a chart scan (checkov) looks, and least privilege by values.

Promises pinned here:
- the image can be pinned by digest (repository@digest, winning over the tag);
- only the operator's Pod mounts a service-account token; the ServiceAccount automounts none;
- the SMTP login is mounted as files, never passed as environment values, and no RBAC rule reaches it;
- an optional NetworkPolicy lets in only the metrics and liveness ports, only from the listed peers,
  and restricts egress only when asked (then DNS plus the listed rules);
- no CPU limit by default, as a documented choice, and one can be set;
- `secrets.allowedNames` limits the RBAC to those Secret names everywhere and reaches the operator;
- the multi-tenant profile renders with all of the above, and the schema refuses typos in the new values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helm_python as helm
import pytest
import yaml

from tests.chart.conftest import CHART, of_kind, only, render

DIGEST = "sha256:" + "0123456789abcdef" * 4
MULTITENANT = yaml.safe_load((CHART / "values-multitenant.yaml").read_text())
MONITORING = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


@pytest.fixture(scope="module", name="chart")
def loaded_chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(CHART) as chart:
        yield chart


def pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return only(objects, "Deployment")["spec"]["template"]["spec"]


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (only_container,) = pod(objects)["containers"]
    return only_container


def test_the_image_can_be_pinned_by_digest(chart: helm.Chart) -> None:
    repository = chart.values["image"]["repository"]
    assert container(render(chart, {"image": {"digest": DIGEST}}))["image"] == f"{repository}@{DIGEST}"
    pinned = container(render(chart, {"image": {"digest": DIGEST, "tag": "1.2.3"}}))["image"]
    assert pinned == f"{repository}@{DIGEST}", "the digest wins over the tag"
    assert container(render(chart, {"image": {"tag": "1.2.3"}}))["image"] == f"{repository}:1.2.3"


def test_only_the_operators_pod_mounts_a_service_account_token(chart: helm.Chart) -> None:
    objects = render(chart)
    assert only(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    assert pod(objects)["automountServiceAccountToken"] is True  # it is a Kubernetes API client


@pytest.mark.parametrize("values", [None, MULTITENANT, {"smtp": {"host": "smtp.example", "existingSecret": "mail"}}])
def test_no_credential_is_passed_as_an_environment_value(chart: helm.Chart, values: Any) -> None:
    for item in container(render(chart, values))["env"]:
        assert "secretKeyRef" not in (item.get("valueFrom") or {}), item["name"]
        assert "PASSWORD" not in item["name"] or item["name"].endswith("_FILE"), item["name"]


def test_there_is_no_network_policy_unless_enabled(chart: helm.Chart) -> None:
    assert of_kind(render(chart), "NetworkPolicy") == []


def test_the_network_policy_lets_in_only_metrics_and_liveness_from_the_listed_peers(chart: helm.Chart) -> None:
    kubelet = [{"ipBlock": {"cidr": "10.0.0.0/8"}}]
    values = {"networkPolicy": {"enabled": True, "metricsFrom": MONITORING, "livenessFrom": kubelet}}
    objects = render(chart, values)
    policy = only(objects, "NetworkPolicy")["spec"]
    labels = only(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["policyTypes"] == ["Ingress"], "egress stays open by default"
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert policy["ingress"] == [
        {"from": MONITORING, "ports": [{"port": ports["metrics"], "protocol": "TCP"}]},
        {"from": kubelet, "ports": [{"port": ports["health"], "protocol": "TCP"}]},
    ]


def test_without_peers_or_metrics_nothing_gets_in(chart: helm.Chart) -> None:
    closed = only(render(chart, {"networkPolicy": {"enabled": True}}), "NetworkPolicy")["spec"]
    assert closed["policyTypes"] == ["Ingress"] and closed["ingress"] == []
    no_metrics = {"networkPolicy": {"enabled": True, "metricsFrom": MONITORING}, "metrics": {"enabled": False}}
    assert only(render(chart, no_metrics), "NetworkPolicy")["spec"]["ingress"] == []


def test_egress_is_restricted_only_on_request_and_then_to_dns_and_the_listed_rules(chart: helm.Chart) -> None:
    api_server = {"to": [{"ipBlock": {"cidr": "192.0.2.10/32"}}], "ports": [{"port": 6443, "protocol": "TCP"}]}
    values = {"networkPolicy": {"enabled": True, "egress": {"restricted": True, "rules": [api_server]}}}
    policy = only(render(chart, values), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    dns = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    assert policy["egress"] == [dns, api_server]


def test_no_cpu_limit_is_a_documented_choice_and_one_can_be_set(chart: helm.Chart) -> None:
    assert "cpu" not in container(render(chart))["resources"]["limits"]
    assert "No CPU limit, deliberately" in (CHART / "values.yaml").read_text()
    limited = {"resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "500m", "memory": "384Mi"}}}
    assert container(render(chart, limited))["resources"]["limits"]["cpu"] == "500m"


def test_allowed_secret_names_limit_rbac_and_reach_the_operator(chart: helm.Chart) -> None:
    objects = render(chart, MULTITENANT)
    names = MULTITENANT["secrets"]["allowedNames"]
    secret_rules = [
        rule
        for role in of_kind(objects, "ClusterRole") + of_kind(objects, "Role")
        for rule in role["rules"]
        if "secrets" in rule["resources"]
    ]
    assert secret_rules and all(rule["resourceNames"] == names for rule in secret_rules)
    env = {item["name"]: item.get("value") for item in container(objects)["env"]}
    assert env["PERSONIO_OPERATOR_SECRET_NAMES"] == ",".join(names)
    assert env["PERSONIO_OPERATOR_SECRET_LABEL"] == MULTITENANT["secrets"]["requiredLabel"]


def test_the_multitenant_profile_is_valid_and_turns_everything_on(chart: helm.Chart) -> None:
    chart.validate_schema(chart.merge_values(MULTITENANT))
    report = helm.lint(CHART, MULTITENANT, strict=True, namespace="personio-system", kube_version="v1.30.0")
    assert report["errors"] == []
    objects = render(chart, MULTITENANT)
    assert only(objects, "NetworkPolicy")["spec"]["ingress"][0]["from"] == MONITORING
    assert MULTITENANT["secrets"]["allowedNames"] and MULTITENANT["secrets"]["requiredLabel"]
    assert MULTITENANT["rbac"]["discovery"] is False


TYPOS = {
    "digest that is a tag": ({"image": {"digest": "latest"}}, "digest"),
    "short digest": ({"image": {"digest": "sha256:abc"}}, "digest"),
    "allowedNames as a string": ({"secrets": {"allowedNames": "scim-token"}}, "allowedNames"),
    "secret name with a slash": ({"secrets": {"allowedNames": ["../scim-token"]}}, "allowedNames"),
    "typo in secrets": ({"secrets": {"allowedName": ["scim-token"]}}, "allowedName"),
    "label without a value": ({"secrets": {"requiredLabel": "hrsync.dev/personio-operator"}}, "requiredLabel"),
    "label with a space": ({"secrets": {"requiredLabel": "a b=c"}}, "requiredLabel"),
    "typo in networkPolicy": ({"networkPolicy": {"enable": True}}, "enable"),
    "peer with a typo": ({"networkPolicy": {"metricsFrom": [{"namespaceSelecter": {}}]}}, "namespaceSelecter"),
    "empty peer": ({"networkPolicy": {"metricsFrom": [{}]}}, "metricsFrom"),
    "egress rules as a map": ({"networkPolicy": {"egress": {"rules": {"to": []}}}}, "rules"),
    "egress restricted as text": ({"networkPolicy": {"egress": {"restricted": "yes"}}}, "restricted"),
}


@pytest.mark.parametrize(("values", "field"), TYPOS.values(), ids=TYPOS.keys())
def test_the_schema_refuses_typos_in_the_hardening_values(chart: helm.Chart, values: dict, field: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=field):
        chart.validate_schema(chart.merge_values(values))
