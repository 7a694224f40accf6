"""Status writes survive an API blip: a failed merge patch of /status is sent again, a few times at most.

KMock applies a write even when a reaction answers it with an error, so these tests look at the
requests the API received and at what the operator did after the write (Events, the e-mail)."""

from __future__ import annotations

import logging
from typing import Any

import kmock
import kopf
import pytest

from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.controller.settings import SmtpSettings
from personio_operator.retrying import RetryPolicy
from tests.controller.conftest import free_port
from tests.controller.harness import Api, eventually, fast_settings, running_operator
from tests.controller.test_operator_failures import spec

TOKEN = "kube-token-do-not-log"


def status_patch(request: kmock.Request) -> bool:
    return request.method == kmock.method.PATCH and request.subresource == "status"


def records_a_failed_run(request: kmock.Request) -> bool:
    data = request.data if isinstance(request.data, dict) else {}
    return status_patch(request) and (data.get("status") or {}).get("lastRunResult") == "Failed"


async def test_the_end_of_run_status_write_is_retried_after_a_503(cluster, api, clock, smtp):
    sink, port = smtp
    cluster[records_a_failed_run][:1] << 503  # the first attempt only; the emulator serves the rest
    settings = fast_settings(smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="op@acme.example"))
    async with running_operator(cluster, settings, clock):
        await api.create_integration("acme", spec())  # no Secrets: the activation run fails
        [mail] = await eventually(lambda: sink.messages, within=10, what="the failure e-mail after the retried write")
        await eventually(lambda: "RunFailed" in api.reasons("acme"), what="the RunFailed Event")

    first, second = list(cluster[records_a_failed_run])
    assert first.data["status"] == second.data["status"], "the retry sends the same patch"
    assert "tenant-acme/acme" in mail["Subject"]
    status = await api.status("acme")
    assert status.get("currentRun") is None
    [entry] = status["history"]
    assert entry["result"] == "Failed"
    assert "Interrupted" not in {e["result"] for e in status["history"]}


@pytest.fixture
async def integration(api: Api) -> dict[str, Any]:
    return await api.create_integration("acme", spec())


async def logged_in(server: str) -> KubeApi:
    kube = KubeApi(retry=RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02))
    kube.use(kopf.ConnectionInfo(server=server, scheme="Bearer", token=TOKEN))
    return kube


@pytest.mark.parametrize("code", [409, 429, 500, 503])
async def test_retries_are_bounded_and_the_last_error_is_raised(cluster, integration, code):
    cluster[status_patch] << code
    kube = await logged_in(str(cluster.url))
    try:
        with pytest.raises(KubeError, match=f"HTTP {code}") as failure:
            await kube.patch_integration_status("tenant-acme", "acme", {"phase": "Active"})
    finally:
        await kube.aclose()
    assert failure.value.status_code == code
    assert len(cluster[status_patch]) == 3


@pytest.mark.parametrize("code", [400, 403, 404, 422])
async def test_an_answer_that_will_not_change_is_not_retried(cluster, integration, code):
    cluster[status_patch] << code
    kube = await logged_in(str(cluster.url))
    try:
        with pytest.raises(KubeError, match=f"HTTP {code}"):
            await kube.patch_integration_status("tenant-acme", "acme", {"phase": "Active"})
    finally:
        await kube.aclose()
    assert len(cluster[status_patch]) == 1


async def test_transport_errors_are_retried_and_logged_without_the_token(caplog):
    caplog.set_level(logging.WARNING, logger="personio_operator.controller.kube")
    kube = await logged_in(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        with pytest.raises(KubeError, match="ConnectError"):
            await kube.patch_integration_status("tenant-acme", "acme", {"phase": "Active"})
    finally:
        await kube.aclose()
    retries = [r.getMessage() for r in caplog.records if "Status write of tenant-acme/acme failed" in r.getMessage()]
    assert len(retries) == 2, retries
    assert "attempt 1 of 3" in retries[0] and "attempt 2 of 3" in retries[1]
    assert TOKEN not in caplog.text


def integration_read(request: kmock.Request) -> bool:
    return request.method == kmock.method.GET and request.name == "acme" and request.subresource is None


async def test_a_read_is_retried_after_a_503_and_a_missing_object_is_not(cluster, integration):
    cluster[integration_read][:1] << 503  # the first read only
    kube = await logged_in(str(cluster.url))
    try:
        fresh = await kube.get_integration("tenant-acme", "acme")
        gone = await kube.get_integration("tenant-acme", "nobody")
    finally:
        await kube.aclose()
    assert fresh is not None and fresh["metadata"]["name"] == "acme"
    assert len(cluster[integration_read]) == 2
    assert gone is None


async def test_a_retry_after_beyond_what_a_status_write_may_wait_is_not_waited_for(cluster, integration):
    cluster[status_patch] << 429 << {"Retry-After": "3600"}
    kube = await logged_in(str(cluster.url))
    try:
        with pytest.raises(KubeError, match="HTTP 429") as failure:
            await kube.patch_integration_status("tenant-acme", "acme", {"phase": "Active"})
    finally:
        await kube.aclose()
    assert failure.value.retry_after == 3600
    assert len(cluster[status_patch]) == 1
