"""The operator's RBAC is least privilege in both install modes."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest
import yaml

from personio_operator.api import GROUP, PLURAL
from tests.chart.conftest import CHART, RELEASE_NAMESPACE, of_kind, only, render

NAMESPACES = ["tenant-acme", "tenant-globex"]
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")

# (apiGroup, resource) -> verbs: everything the operator may do where it serves integrations.
EXPECTED_RULES = {
    (GROUP, PLURAL): {"get", "list", "watch", "patch"},
    (GROUP, f"{PLURAL}/status"): {"patch"},
    ("", "events"): {"create"},
    ("", "secrets"): {"get"},
}
VARIANTS = {
    "all-namespaces": None,
    "namespaced": {"watchNamespaces": NAMESPACES},
    "discovery": {"rbac": {"discovery": True}},
    "smtp-login": {"smtp": {"host": "smtp.example", "existingSecret": "smtp-login"}},
    "namespaced-smtp-discovery": {
        "watchNamespaces": NAMESPACES,
        "smtp": {"existingSecret": "smtp-login"},
        "rbac": {"discovery": True},
    },
    "allowed-names": {"secrets": {"allowedNames": ["personio-credentials", "scim-token"]}},
    "multi-tenant-profile": "values-multitenant.yaml",
}


def _grants(role: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def _values(values: Any) -> Any:
    return yaml.safe_load((CHART / values).read_text()) if isinstance(values, str) else values


@pytest.mark.parametrize("values", VARIANTS.values(), ids=VARIANTS.keys())
def test_no_wildcards_and_secrets_are_only_read(chart: helm.Chart, values: Any) -> None:
    roles = [obj for obj in render(chart, _values(values)) if obj["kind"] in ROLE_KINDS]
    assert roles
    for role in roles:
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in rule.get(field, []), f"{role['metadata']['name']}: wildcard in {field}"
            assert not rule.get("nonResourceURLs"), role["metadata"]["name"]
            assert not {"escalate", "bind", "impersonate", "delete", "deletecollection", "update"} & set(
                rule["verbs"]
            ), rule
            if "secrets" in rule["resources"]:
                assert rule["verbs"] == ["get"], f"{role['metadata']['name']}: secrets may only be read"


def test_all_namespaces_mode_uses_one_cluster_role_with_exactly_what_is_needed(chart: helm.Chart) -> None:
    objects = render(chart)
    assert of_kind(objects, "Role") == [] and of_kind(objects, "RoleBinding") == []
    role = only(objects, "ClusterRole")
    assert _grants(role) == EXPECTED_RULES
    binding = only(objects, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    service_account = only(objects, "ServiceAccount")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": service_account["metadata"]["name"], "namespace": RELEASE_NAMESPACE}
    ]


def test_namespaced_mode_grants_only_in_the_watched_namespaces(chart: helm.Chart) -> None:
    objects = render(chart, {"watchNamespaces": NAMESPACES})
    assert of_kind(objects, "ClusterRole") == [] and of_kind(objects, "ClusterRoleBinding") == []
    roles = {role["metadata"]["namespace"]: role for role in of_kind(objects, "Role")}
    assert sorted(roles) == NAMESPACES
    for role in roles.values():
        assert _grants(role) == EXPECTED_RULES
    bindings = {binding["metadata"]["namespace"]: binding for binding in of_kind(objects, "RoleBinding")}
    assert sorted(bindings) == NAMESPACES
    service_account = only(objects, "ServiceAccount")["metadata"]["name"]
    for namespace, binding in bindings.items():
        assert binding["roleRef"]["kind"] == "Role"
        assert binding["roleRef"]["name"] == roles[namespace]["metadata"]["name"]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": service_account, "namespace": RELEASE_NAMESPACE}
        ]


@pytest.mark.parametrize("values", VARIANTS.values(), ids=VARIANTS.keys())
def test_no_rule_reaches_the_release_namespace_or_the_smtp_secret(chart: helm.Chart, values: Any) -> None:
    """The SMTP login is mounted into the Pod: no Role may read it (nor anything in the release namespace)."""
    objects = render(chart, _values(values))
    assert [role for role in of_kind(objects, "Role") if role["metadata"]["namespace"] == RELEASE_NAMESPACE] == []
    for role in (obj for obj in objects if obj["kind"] in ROLE_KINDS):
        for rule in role["rules"]:
            assert "smtp-login" not in rule.get("resourceNames", []), role["metadata"]["name"]


@pytest.mark.parametrize("values", [{}, {"watchNamespaces": NAMESPACES}], ids=["all-namespaces", "namespaced"])
def test_allowed_secret_names_become_resource_names_of_the_only_secrets_rule(chart: helm.Chart, values: Any) -> None:
    names = ["personio-credentials", "scim-token"]
    objects = render(chart, {**values, "secrets": {"allowedNames": names}})
    roles = [obj for obj in objects if obj["kind"] in ROLE_KINDS and not obj["metadata"]["name"].endswith("-discovery")]
    assert roles
    for role in roles:
        secret_rules = [rule for rule in role["rules"] if "secrets" in rule["resources"]]
        assert secret_rules == [
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": names, "verbs": ["get"]}
        ], role["metadata"]["name"]
        assert _grants(role) == EXPECTED_RULES


def test_discovery_adds_only_listing_namespaces_and_crds(chart: helm.Chart) -> None:
    without = {role["metadata"]["name"] for role in of_kind(render(chart), "ClusterRole")}
    objects = render(chart, {"rbac": {"discovery": True}})
    (discovery,) = [role for role in of_kind(objects, "ClusterRole") if role["metadata"]["name"] not in without]
    assert _grants(discovery) == {
        ("", "namespaces"): {"list", "watch"},
        ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
    }


def test_rbac_can_be_left_to_the_cluster_admin(chart: helm.Chart) -> None:
    objects = render(chart, {"rbac": {"create": False}})
    assert not [obj for obj in objects if obj["kind"] in ROLE_KINDS + BINDING_KINDS]
