"""``personio-operator plan`` / ``sync`` / ``demo`` as a person runs them: files in, text or JSON out, exit codes."""

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from personio_operator.cli import main
from personio_operator.destinations import Side
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.sync.harness import Harness

EXAMPLE = Path("examples/local/integration.yaml")
EXAMPLE_SECRETS = Path("examples/local/secrets.yaml")


def write_integration(tmp_path: Path, harness: Harness, **spec_changes) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["spec"]["personio"]["baseUrl"] = harness.sandbox.base_url
    document["spec"]["target"]["scim"]["url"] = harness.app.url
    document["spec"].update(spec_changes)
    path = tmp_path / "integration.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def write_secrets(tmp_path: Path, token: str) -> Path:
    documents = list(yaml.safe_load_all(EXAMPLE_SECRETS.read_text()))
    documents[1]["stringData"]["token"] = token
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return path


LOCAL_SERVERS = {side.env_var: "http://127.0.0.1:*" for side in Side}  # the harness's servers, any port


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env={**LOCAL_SERVERS, **(env or {})}, catch_exceptions=False)


def test_plan_prints_the_plan_and_writes_nothing(tmp_path: Path, harness: Harness) -> None:
    integration = write_integration(tmp_path, harness)
    result = invoke("plan", "-f", str(integration), "--secrets", str(write_secrets(tmp_path, harness.app.token)))
    assert result.exit_code == 0, result.output
    assert "Plan: users: 26 to create" in result.output
    assert "Abteilung Geschäftsführung" in result.output
    assert "Started at" in result.output and "✓ ok (test)" in result.output
    assert harness.app.writes() == 0


def test_sync_json_has_per_kind_counts_and_a_second_run_writes_nothing(tmp_path: Path, harness: Harness) -> None:
    integration = write_integration(tmp_path, harness)
    secrets = write_secrets(tmp_path, harness.app.token)
    result = invoke("sync", "-f", str(integration), "--secrets", str(secrets), "--json", "--started-by", "jane")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["startedBy"] == "jane" and report["result"] == "Succeeded"
    # the same counts as status.history[] (users are deactivated, teams removed; each kind says only what it can)
    assert set(report["users"]) == {"created", "updated", "deactivated", "reactivated", "unchanged"}
    assert set(report["teams"]) == {"created", "updated", "removed", "unchanged"}
    assert report["users"]["created"] == len(harness.in_scope_ids()) == len(harness.users())
    assert report["teams"]["created"] == len(harness.groups())

    harness.app.reset_requests()
    second = json.loads(invoke("sync", "-f", str(integration), "--secrets", str(secrets), "--json").output)
    assert second["users"]["created"] == 0 and second["users"]["unchanged"] == len(harness.users())
    assert harness.app.writes() == 0


def test_plan_json_has_the_plan_with_field_level_changes(tmp_path: Path, harness: Harness) -> None:
    integration = write_integration(tmp_path, harness)
    secrets = write_secrets(tmp_path, harness.app.token)
    invoke("sync", "-f", str(integration), "--secrets", str(secrets))
    harness.company.change_position(1003, "Chief Data Officer")
    result = invoke("plan", "-f", str(integration), "--secrets", str(secrets), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["dryRun"] is True and data["test"]["personioReachable"] is True
    (update,) = data["plan"]["users"]
    assert update["action"] == "update" and update["external_id"] == "personio:1003"
    assert {"field": "title", "old": harness.users()["1003"]["title"], "new": "Chief Data Officer"} in update["changes"]


def test_credentials_from_the_environment(tmp_path: Path, harness: Harness) -> None:
    env = {
        "PERSONIO_CLIENT_ID": DEFAULT_CLIENT_ID,
        "PERSONIO_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "SCIM_TOKEN": harness.app.token,
    }
    result = invoke("plan", "-f", str(write_integration(tmp_path, harness)), env=env)
    assert result.exit_code == 0, result.output


def test_failed_run_exits_1_with_the_error(tmp_path: Path, harness: Harness) -> None:
    integration = write_integration(tmp_path, harness)
    secrets = write_secrets(tmp_path, harness.app.token)
    assert invoke("sync", "-f", str(integration), "--secrets", str(secrets)).exit_code == 0
    for person_id in sorted(harness.in_scope_ids())[1:6]:
        harness.company.terminate(int(person_id))
    result = invoke("sync", "-f", str(integration), "--secrets", str(secrets))
    assert result.exit_code == 1
    assert "✗ failed" in result.output and "safety.maxDeactivations" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("kind: PersonioIntegration\napiVersion: hrsync.dev/v1alpha1\nspec: {personio: {}}\n", "spec.target: required"),
        (
            "kind: PersonioIntegration\napiVersion: hrsync.dev/v1alpha1\nspec:\n"
            "  personio: {credentialsSecretRef: {name: p}}\n"
            "  target: {scim: {url: 'ftp://x', credentialsSecretRef: {name: s}}}\n"
            "  rules: {includeExternals: true}\n",
            "spec.rules.includeExternals: unknown field",
        ),
        ("kind: PersonioIntegration\napiVersion: hrsync.dev/v2\nspec: {}\n", "this version reads"),
        ("kind: Something\n", "exactly one object with kind: PersonioIntegration"),
        ("spec: [unclosed\n", "not valid YAML at line"),
    ],
)
def test_bad_integration_files_exit_2_with_the_field_to_fix(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    result = CliRunner().invoke(main, ["plan", "-f", str(path)], env={})
    assert result.exit_code == 2
    assert expected in result.output


def test_bad_url_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    document = yaml.safe_load(EXAMPLE.read_text())
    document["spec"]["target"]["scim"]["url"] = "ftp://nope"
    path.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["plan", "-f", str(path)], env={})
    assert result.exit_code == 2 and "spec.target.scim.url" in result.output


def test_missing_credentials_exit_2_and_say_how_to_give_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "-f", str(EXAMPLE)], env={"SCIM_TOKEN": ""})
    assert result.exit_code == 2
    assert "--secrets" in result.output and "$PERSONIO_CLIENT_SECRET" in result.output


def test_demo_runs_offline_and_prints_the_run_table() -> None:
    result = CliRunner().invoke(main, ["demo", "--employees", "30"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("1. Test", "2. Activate", "3. Meanwhile in Personio", "4. The next scheduled run", "Runs ("):
        assert heading in out
    table = out[out.index("Started at") :].splitlines()
    assert len([line for line in table[2:6] if "✓ ok" in line]) == 4
    assert "rename: department" in out and "What just happened" in out
    scheduled_plan = out[out.index("4. The next scheduled run") : out.index("5. ")]
    leaver = out[out.index("leaver: ") :].split("\n", 1)[0]
    assert "  - deactivate" in scheduled_plan, "the leaver's deactivation must be visible in the plan"
    assert "inactive in Personio" in scheduled_plan, leaver
