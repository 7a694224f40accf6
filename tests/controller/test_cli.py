"""The ``trigger`` and ``run`` commands against KMock through a real kubeconfig file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import kmock
import pytest
import yaml
from click.testing import CliRunner

from personio_operator.cli import main
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.controller.harness import (
    NAMESPACE,
    eventually,
    fast_settings,
    integration_spec,
    put_credentials,
    running_operator,
)
from tests.controller.reviews import (
    ReviewingEmulator,
    answer_reviews,
    no_review_api,
    refuse_reviews,
    review_requests,
)

TOKEN = "test-token"
KUBECONFIG_USER = "kind-acme"  # the kubeconfig's name for its credentials, not a person
REVIEWED_USER = "alice@acme.example"  # who the API server says the token belongs to


@pytest.fixture
def kmock_options() -> dict:
    return {"cls": ReviewingEmulator}


@pytest.fixture
def reviews(cluster: kmock.KubernetesEmulator) -> kmock.KubernetesEmulator:
    """An API server (>= 1.28) that answers SelfSubjectReviews for the kubeconfig's token."""
    answer_reviews(cluster, {TOKEN: REVIEWED_USER})
    return cluster


def write_kubeconfig(path: Path, server: str, user: str = KUBECONFIG_USER) -> Path:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": user, "user": {"token": TOKEN}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": user, "namespace": NAMESPACE}}],
        "current-context": "kmock",
    }
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


async def invoke(*args: str):
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def test_trigger_records_the_user_the_api_server_reviewed(reviews, api, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(reviews.url).rstrip("/"))
    await api.create_integration("acme", integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2"))

    result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 0, result.output
    annotations = (await api.get("acme"))["metadata"]["annotations"]
    assert annotations[RUN_REQUEST_ANNOTATION].endswith(f" by {REVIEWED_USER}")
    assert KUBECONFIG_USER not in annotations[RUN_REQUEST_ANNOTATION]
    assert "SelfSubjectReview" in result.output
    (review,) = review_requests(reviews)
    assert review.headers["Authorization"] == f"Bearer {TOKEN}"  # the kubeconfig's own credentials


async def test_as_user_overrides_the_review_and_asks_nothing(reviews, api, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(reviews.url).rstrip("/"))
    await api.create_integration("acme", integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2"))

    result = await invoke("trigger", "test", "acme", "--kubeconfig", str(kubeconfig), "--as-user", "bob@acme.example")
    assert result.exit_code == 0, result.output
    annotations = (await api.get("acme"))["metadata"]["annotations"]
    assert annotations[TEST_REQUEST_ANNOTATION].endswith(" by bob@acme.example")
    assert review_requests(reviews) == []


async def test_without_the_review_api_the_kubeconfig_user_is_recorded_and_the_caller_told(cluster, api, tmp_path):
    no_review_api(cluster)
    kubeconfig = write_kubeconfig(tmp_path / "config", str(cluster.url).rstrip("/"))
    await api.create_integration("acme", integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2"))

    result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 0, result.output
    annotations = (await api.get("acme"))["metadata"]["annotations"]
    assert annotations[RUN_REQUEST_ANNOTATION].endswith(f" by {KUBECONFIG_USER}")
    assert "no SelfSubjectReview API" in result.output
    assert f"{KUBECONFIG_USER!r}, the kubeconfig's user entry" in result.output
    assert len(review_requests(cluster)) == 1


async def test_a_refused_review_writes_nothing_and_says_what_to_do(cluster, api, tmp_path):
    refuse_reviews(cluster, 403)
    kubeconfig = write_kubeconfig(tmp_path / "config", str(cluster.url).rstrip("/"))
    await api.create_integration("acme", integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2"))

    result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig))
    assert result.exit_code != 0
    assert "HTTP 403" in result.output
    assert "--as-user" in result.output
    assert RUN_REQUEST_ANNOTATION not in ((await api.get("acme"))["metadata"].get("annotations") or {})


async def test_credentials_the_api_server_does_not_know_are_not_recorded_as_anyone(reviews, api, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(reviews.url).rstrip("/"))
    config = yaml.safe_load(kubeconfig.read_text())
    config["users"][0]["user"]["token"] = "stolen-or-expired"
    kubeconfig.write_text(yaml.safe_dump(config))
    await api.create_integration("acme", integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2"))

    result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig))
    assert result.exit_code != 0
    assert "HTTP 401" in result.output
    assert "stolen-or-expired" not in result.output
    assert RUN_REQUEST_ANNOTATION not in ((await api.get("acme"))["metadata"].get("annotations") or {})


async def test_trigger_names_a_missing_integration(reviews, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(reviews.url).rstrip("/"))
    result = await invoke("trigger", "run", "nope", "-n", "elsewhere", "--kubeconfig", str(kubeconfig))
    assert result.exit_code != 0
    assert "'nope' not found in namespace 'elsewhere'" in result.output


async def test_triggered_run_shows_who_started_it(reviews, cluster, api, clock, personio, scim_server, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(cluster.url).rstrip("/"))
    await put_credentials(
        api, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, scim_token="scim-token"
    )
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, scim_server.url))
        await eventually(lambda: _history_len(api, 1), what="the activation run")
        result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig), "--wait", "--timeout", "20")
    assert result.exit_code == 0, result.output
    assert "Succeeded" in result.output
    entry = (await api.status("acme"))["history"][0]
    assert entry["trigger"] == "Manual"
    assert entry["startedBy"] == REVIEWED_USER


async def test_waiting_for_a_run_of_an_inactive_integration_says_it_was_ignored(reviews, cluster, api, clock, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(cluster.url).rstrip("/"))
    spec = integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2", active=False)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", spec)
        result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig), "--wait", "--timeout", "20")
    assert result.exit_code == 1, result.output
    assert "ignored: spec.active is false" in result.output


async def test_waiting_for_a_run_of_an_invalid_integration_says_what_to_fix(reviews, cluster, api, clock, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(cluster.url).rstrip("/"))
    spec = integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2", timeZone="Mars/Olympus")
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", spec)
        await eventually(lambda: _phase(api, "Invalid"), what="the spec reported as invalid")
        result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig), "--wait", "--timeout", "20")
    assert result.exit_code == 1, result.output
    assert "Run request ignored: No runs until the spec is fixed:" in result.output
    assert "Mars/Olympus" in result.output


async def test_waiting_for_a_failed_run_exits_1(reviews, cluster, api, clock, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "config", str(cluster.url).rstrip("/"))
    async with running_operator(cluster, fast_settings(), clock):  # no Secrets: every run fails
        await api.create_integration("acme", integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2"))
        await eventually(lambda: _history_len(api, 1), what="the failed activation run")
        result = await invoke("trigger", "run", "acme", "--kubeconfig", str(kubeconfig), "--wait", "--timeout", "20")
    assert result.exit_code == 1, result.output
    assert "Failed: Secret 'personio-credentials' not found" in result.output


def test_run_rejects_bad_settings_and_conflicting_scopes(monkeypatch):
    monkeypatch.setenv("PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS", "none")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code != 0
    assert "PERSONIO_OPERATOR_MAX_CONCURRENT_RUNS" in result.output

    result = CliRunner().invoke(main, ["run", "-n", "a", "--all-namespaces"])
    assert result.exit_code != 0
    assert "either --namespace or --all-namespaces" in result.output


async def _history_len(api, count: int) -> bool:
    return len((await api.status("acme")).get("history", [])) == count


async def _phase(api, phase: str) -> bool:
    return (await api.status("acme")).get("phase") == phase
