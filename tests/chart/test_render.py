"""The chart as Helm renders it: the Deployment runs one operator safely, and its settings reach it."""

from __future__ import annotations

from typing import Any

import click
import helm_python as helm
import pytest

from personio_operator.cli import main
from personio_operator.controller.settings import OperatorSettings
from tests.chart.conftest import CHART, RELEASE_NAMESPACE, of_kind, only, render

NAMESPACED = {"watchNamespaces": ["tenant-acme", "tenant-globex"]}


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = only(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _env(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in _container(objects)["env"]}


@pytest.mark.parametrize("values", [None, NAMESPACED], ids=["all-namespaces", "namespaced"])
def test_every_object_is_named_and_namespaced_where_it_must_be(chart: helm.Chart, values: Any) -> None:
    objects = render(chart, values)
    assert {obj["kind"] for obj in objects} >= {"ServiceAccount", "Deployment"}
    for obj in objects:
        assert obj["apiVersion"] and obj["metadata"]["name"], obj
        if obj["kind"] in ("ServiceAccount", "Deployment", "Service"):
            assert obj["metadata"]["namespace"] == RELEASE_NAMESPACE, obj["kind"]


def test_one_replica_never_two_at_once(chart: helm.Chart) -> None:
    deployment = only(render(chart), "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_command_runs_standalone_with_liveness_and_all_namespaces(chart: helm.Chart) -> None:
    container = _container(render(chart))
    assert container["command"] == ["personio-operator"]
    assert container["args"] == [
        "run",
        "--standalone",
        "--liveness=http://0.0.0.0:8080/healthz",
        "--log-format=json",
        "--all-namespaces",
    ]
    assert _env(render(chart))["PERSONIO_OPERATOR_NAMESPACES"] == ""


def test_namespaced_install_passes_each_namespace(chart: helm.Chart) -> None:
    objects = render(chart, {**NAMESPACED, "operator": {"extraArgs": ["--verbose"]}})
    args = _container(objects)["args"]
    assert args[4:] == ["--namespace=tenant-acme", "--namespace=tenant-globex", "--verbose"]
    assert "--all-namespaces" not in args
    assert _env(objects)["PERSONIO_OPERATOR_NAMESPACES"] == "tenant-acme,tenant-globex"


def test_liveness_probe_reaches_kopfs_health_endpoint(chart: helm.Chart) -> None:
    container = _container(render(chart, {"liveness": {"port": 8181}}))
    assert "--liveness=http://0.0.0.0:8181/healthz" in container["args"]
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports[probe["port"]] == 8181
    assert "readinessProbe" not in container


def test_pod_meets_the_restricted_pod_security_standard(chart: helm.Chart) -> None:
    objects = render(chart)
    pod = only(objects, "Deployment")["spec"]["template"]["spec"]
    container = _container(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int) and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["readOnlyRootFilesystem"] is True
    assert not context.get("privileged")
    # Read-only root: Python's temporary files go to an emptyDir.
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert any(volume["name"] == "tmp" and "emptyDir" in volume for volume in pod["volumes"])
    allowed_volume_types = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "projected", "secret"}
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= allowed_volume_types, volume
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_operator_settings_reach_the_container_environment(chart: helm.Chart) -> None:
    objects = render(
        chart,
        {
            "smtp": {
                "host": "smtp.example",
                "port": 2525,
                "starttls": False,
                "from": "ops@example",
                "existingSecret": "smtp-login",
            },
            "operator": {"maxConcurrentRuns": 7, "runBudgetSeconds": 600},
            "metrics": {"port": 9300},
            "secrets": {"allowedNames": ["personio-credentials", "scim-token"], "requiredLabel": "hrsync.dev/ok=yes"},
            "rbac": {"discovery": True},
        },
    )
    env = _env(objects)
    assert env["PERSONIO_OPERATOR_SMTP_HOST"] == "smtp.example"
    assert env["PERSONIO_OPERATOR_SMTP_PORT"] == "2525"
    assert env["PERSONIO_OPERATOR_SMTP_STARTTLS"] == "false"
    assert env["PERSONIO_OPERATOR_SMTP_FROM"] == "ops@example"
    assert env["PERSONIO_OPERATOR_SECRET_NAMES"] == "personio-credentials,scim-token"
    assert env["PERSONIO_OPERATOR_SECRET_LABEL"] == "hrsync.dev/ok=yes"
    assert env["PERSONIO_OPERATOR_DISCOVERY"] == "true"
    assert env["PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS"] == "7"
    assert env["PERSONIO_OPERATOR_RUN_BUDGET_SECONDS"] == "600"
    assert env["PERSONIO_OPERATOR_METRICS_PORT"] == "9300"
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    # Every value is a string, as the API server requires for env values.
    assert all(isinstance(value, str | dict) for value in env.values())
    # The operator reads them as the chart wrote them.
    settings = OperatorSettings.from_env({name: value for name, value in env.items() if isinstance(value, str)})
    assert settings.secret_access.allowed_names == {"personio-credentials", "scim-token"}
    assert settings.secret_access.label == ("hrsync.dev/ok", "yes")
    assert settings.discovery is True
    assert settings.smtp.password_file is not None and settings.smtp.password is None
    defaults = OperatorSettings.from_env({k: v for k, v in _env(render(chart)).items() if isinstance(v, str)})
    assert defaults.secret_access.allowed_names == frozenset() and defaults.secret_access.label is None
    assert defaults.discovery is False
    assert defaults.smtp.password_file is None


def test_the_smtp_login_is_mounted_as_files_that_the_operator_reads(chart: helm.Chart) -> None:
    objects = render(chart, {"smtp": {"host": "smtp.example", "existingSecret": "smtp-login"}})
    container = _container(objects)
    pod = only(objects, "Deployment")["spec"]["template"]["spec"]
    env = _env(objects)
    [volume] = [volume for volume in pod["volumes"] if "secret" in volume]
    assert volume["secret"]["secretName"] == "smtp-login"
    [mount] = [mount for mount in container["volumeMounts"] if mount["name"] == volume["name"]]
    assert mount["readOnly"] is True
    files = {f"{mount['mountPath']}/{item['path']}": item["key"] for item in volume["secret"]["items"]}
    assert files[env["PERSONIO_OPERATOR_SMTP_USERNAME_FILE"]] == "username"
    assert files[env["PERSONIO_OPERATOR_SMTP_PASSWORD_FILE"]] == "password"
    assert volume["secret"]["defaultMode"] & 0o004, "readable by the non-root user without an fsGroup"
    # No credential is passed as an environment value, and nothing refers to the Secret otherwise.
    assert not [item for item in container["env"] if "secretKeyRef" in str(item.get("valueFrom", ""))]
    without = render(chart, {"smtp": {"host": "smtp.example"}})
    assert "PERSONIO_OPERATOR_SMTP_PASSWORD_FILE" not in _env(without)
    assert not [v for v in only(without, "Deployment")["spec"]["template"]["spec"]["volumes"] if "secret" in v]


def test_every_operator_variable_is_documented_in_the_chart_readme(chart: helm.Chart) -> None:
    readme = (CHART / "README.md").read_text()
    everything = {"smtp": {"existingSecret": "smtp-login"}}
    variables = [name for name in _env(render(chart, everything)) if name.startswith("PERSONIO_OPERATOR_")]
    assert variables
    assert [name for name in variables if f"`{name}`" not in readme] == []


def test_metrics_can_be_switched_off_and_exposed(chart: helm.Chart) -> None:
    assert of_kind(render(chart), "Service") == []
    exposed = render(chart, {"metrics": {"service": {"enabled": True}}})
    service = only(exposed, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert service["spec"]["selector"].items() <= (
        only(exposed, "Deployment")["spec"]["template"]["metadata"]["labels"].items()
    )
    off = render(chart, {"metrics": {"enabled": False, "service": {"enabled": True}}})
    assert of_kind(off, "Service") == []
    assert _env(off)["PERSONIO_OPERATOR_METRICS_PORT"] == "0"
    assert "metrics" not in {port["name"] for port in _container(off)["ports"]}


def test_image_tag_defaults_to_the_app_version(chart: helm.Chart) -> None:
    assert _container(render(chart))["image"].endswith(f":{chart.metadata['appVersion']}")
    assert _container(render(chart, {"image": {"tag": "1.2.3"}}))["image"].endswith(":1.2.3")


def test_existing_service_account_must_be_named(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"serviceAccount\.name is required"):
        render(chart, {"serviceAccount": {"create": False}})
    objects = render(chart, {"serviceAccount": {"create": False, "name": "ops"}})
    assert of_kind(objects, "ServiceAccount") == []
    assert only(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "ops"
    assert only(objects, "ClusterRoleBinding")["subjects"][0]["name"] == "ops"


def test_notes_tell_how_to_test_and_run(chart: helm.Chart) -> None:
    notes = chart.render(name="po", namespace=RELEASE_NAMESPACE)["personio-operator/templates/NOTES.txt"]
    assert "hrsync.dev/test-requested-at" in notes and "hrsync.dev/run-requested-at" in notes
    namespaced = chart.render(values=NAMESPACED, name="po", namespace=RELEASE_NAMESPACE)
    assert "tenant-acme, tenant-globex" in namespaced["personio-operator/templates/NOTES.txt"]


@pytest.mark.parametrize(
    "values",
    [None, {**NAMESPACED, "operator": {"logFormat": "plain", "extraArgs": ["--verbose"]}}],
    ids=["all-namespaces", "namespaced"],
)
def test_container_arguments_are_accepted_by_the_real_cli(chart: helm.Chart, values: Any) -> None:
    container = _container(render(chart, values))
    command = main.commands[container["args"][0]]
    # Parsing (not running) raises click.UsageError for any option the command does not know.
    parsed = command.make_context(container["args"][0], list(container["args"][1:])).params.values()
    assert "http://0.0.0.0:8080/healthz" in parsed
    if values:
        assert tuple(values["watchNamespaces"]) in parsed
    with pytest.raises(click.UsageError):
        command.make_context(container["args"][0], [*container["args"][1:], "--no-such-flag"])
