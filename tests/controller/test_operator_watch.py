"""Operator in the loop: no finalizer, no timers, and reactions straight from the watch.

Promises pinned here (KMock as the API server, the Personio sandbox and scim2-server; the clock stands
still, so nothing time-driven can fire; assertions on the requests KMock received, in order):

- An integration the operator serves carries no finalizer and none of kopf's annotations; deleting it
  while the operator is stopped does not wait for the operator.
- The finalizer and the annotations earlier versions left are removed when the operator starts, other
  finalizers stay, and an object that was being deleted is released.
- Between runs the operator asks the API for nothing but the watch.
- ``spec.active: false``, a run request and a Test request are acted on from their watch event: the
  operator's next requests after the change are its fresh read and the status write that answers it.
- With a label selector, an operator serves only the integrations it selects (shards of replicas).
"""

from __future__ import annotations

from typing import Any

import pytest

from personio_operator.controller.integration import LEGACY_ANNOTATIONS, LEGACY_FINALIZER
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION
from tests.controller.harness import (
    Api,
    described,
    eventually,
    fast_settings,
    integration_spec,
    operator_requests,
    personio_company,
    put_credentials,
    request_count,
    running_operator,
    stays,
)

PERSONIO_SECRET_VALUE = "personio-secret-watch"
SCIM_TOKEN_VALUE = "scim-token-watch"
OTHER_FINALIZER = "backup.example.com/protect"


@pytest.fixture
async def personio():
    async with personio_company(client_secret=PERSONIO_SECRET_VALUE, employees=5, seed=4) as server:
        yield server


@pytest.fixture
def app(scim_server_factory):
    return scim_server_factory(token=SCIM_TOKEN_VALUE)


async def good_credentials(api: Api) -> None:
    await put_credentials(api, client_secret=PERSONIO_SECRET_VALUE, scim_token=SCIM_TOKEN_VALUE)


def settled(api: Api, name: str, runs: int):
    async def probe() -> dict[str, Any] | None:
        status = await api.status(name)
        done = len(status.get("history") or []) == runs and not status.get("currentRun")
        return status if done else None

    return probe


def operator_annotations(obj: dict[str, Any]) -> set[str]:
    annotations = obj["metadata"].get("annotations") or {}
    return {key for key in annotations if key.startswith("hrsync.dev/")} - {
        RUN_REQUEST_ANNOTATION,
        TEST_REQUEST_ANNOTATION,
    }


async def test_a_served_integration_carries_no_finalizer_and_is_deleted_without_the_operator(
    cluster, api, clock, personio, app
):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(settled(api, "acme", 1), what="the activation run")
        await api.annotate("acme", TEST_REQUEST_ANNOTATION, "2026-11-25T10:01:00Z by alice@acme.example")
        await eventually(lambda: "TestSucceeded" in api.reasons("acme"), what="the Test")

    obj = await api.get("acme")
    assert not obj["metadata"].get("finalizers")
    assert operator_annotations(obj) == set()
    object_writes = [
        described(request) for request in operator_requests(cluster) if str(request.method).upper().endswith("PATCH")
    ]
    assert object_writes and all(write.endswith("/status") for write in object_writes), object_writes

    await api.delete("acme")  # the operator is stopped
    assert not await api.exists("acme")


async def test_what_earlier_versions_left_is_removed_and_a_deleted_object_is_released(cluster, api, clock):
    left_behind = dict.fromkeys(LEGACY_ANNOTATIONS, "{}")
    handled = {"lastScheduledSlot": "2026-11-25T04:00:00Z", "phase": "Inactive"}
    spec = integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2", active=False)
    request = "2026-11-24T09:00:00Z by alice@acme.example"
    await api.create_integration(
        "old",
        spec,
        annotations={**left_behind, RUN_REQUEST_ANNOTATION: request},
        finalizers=[LEGACY_FINALIZER, OTHER_FINALIZER],
    )
    await api.write_status("old", {**handled, "lastHandledRunRequest": request})
    await api.create_integration("leaving", spec, annotations=left_behind, finalizers=[LEGACY_FINALIZER])
    await api.delete("leaving")  # stays Terminating: the old finalizer holds it while no operator runs
    assert await api.exists("leaving")

    async with running_operator(cluster, fast_settings(), clock):
        cleaned = await eventually(
            lambda: _without_leftovers(api, "old"), what="the old finalizer and annotations removed"
        )
        await eventually(lambda: _gone(api, "leaving"), what="the object being deleted released")

    assert cleaned["metadata"]["finalizers"] == [OTHER_FINALIZER]
    assert cleaned["metadata"]["annotations"] == {RUN_REQUEST_ANNOTATION: request}
    assert cleaned["spec"] == spec
    assert not api.reasons("old"), "an inactive integration that was handled before needs no other word"


async def _without_leftovers(api: Api, name: str) -> dict[str, Any] | None:
    obj = await api.get(name)
    clean = LEGACY_FINALIZER not in (obj["metadata"].get("finalizers") or []) and not operator_annotations(obj)
    return obj if clean else None


async def _gone(api: Api, name: str) -> bool:
    return not await api.exists(name)


async def test_switching_off_is_acted_on_from_the_watch_event(cluster, api, clock, personio, app):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(secret_check_seconds=3600), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(settled(api, "acme", 1), what="the activation run")
        await eventually(lambda: "RunSucceeded" in api.reasons("acme"), what="the run's last Event")
        idle_from = request_count(cluster)
        await stays(lambda: not operator_requests(cluster, since=idle_from), seconds=1.0, what="an idle operator")

        changed_at = request_count(cluster)
        await api.patch_spec("acme", {"active": False})
        await eventually(lambda: "Deactivated" in api.reasons("acme"), what="the Deactivated Event")

    answer = operator_requests(cluster, since=changed_at)
    assert [described(request) for request in answer] == [
        "GET personiointegrations/acme",
        "PATCH personiointegrations/acme/status",
        "POST events",
    ]
    assert answer[1].data["status"]["phase"] == "Inactive"
    assert answer[1].data["status"]["nextRun"] == "none while inactive: spec.active is false"


async def test_run_and_test_requests_are_acted_on_from_the_watch_event(cluster, api, clock, personio, app):
    await good_credentials(api)
    async with running_operator(cluster, fast_settings(secret_check_seconds=3600), clock):
        await api.create_integration("acme", integration_spec(personio.base_url, app.url))
        await eventually(settled(api, "acme", 1), what="the activation run")
        await eventually(lambda: "RunSucceeded" in api.reasons("acme"), what="the run's last Event")

        asked_at = request_count(cluster)
        await api.annotate("acme", RUN_REQUEST_ANNOTATION, "2026-11-25T10:05:00Z by bob@acme.example")
        await eventually(settled(api, "acme", 2), what="the manual run")
        # its Events are posted after its last status write: wait for them, or they seem to follow the Test
        await eventually(lambda: api.reasons("acme").count("RunSucceeded") == 2, what="the manual run's last Event")
        run = operator_requests(cluster, since=asked_at)

        asked_at = request_count(cluster)
        await api.annotate("acme", TEST_REQUEST_ANNOTATION, "2026-11-25T10:06:00Z by carol@acme.example")
        await eventually(lambda: "TestSucceeded" in api.reasons("acme"), what="the Test")
        test = operator_requests(cluster, since=asked_at)

    assert described(run[0]) == "GET personiointegrations/acme"
    writes = [request for request in run if described(request) == "PATCH personiointegrations/acme/status"]
    started = writes[0].data["status"]
    assert started["lastHandledRunRequest"] == "2026-11-25T10:05:00Z by bob@acme.example"
    assert started["currentRun"]["trigger"] == "Manual"
    assert all(described(request).startswith("GET secrets/") for request in run[1 : run.index(writes[0])])

    assert described(test[0]) == "GET personiointegrations/acme"
    [tested] = [request for request in test if described(request) == "PATCH personiointegrations/acme/status"]
    assert tested.data["status"]["lastHandledTestRequest"] == "2026-11-25T10:06:00Z by carol@acme.example"


async def test_each_shard_serves_only_the_integrations_its_label_selector_selects(cluster, api, clock):
    spec = integration_spec("http://127.0.0.1:9", "http://127.0.0.1:9/scim/v2")  # runs fail at once
    await api.create_integration("east", spec, labels={"hrsync.dev/shard": "east"})
    await api.create_integration("west", spec, labels={"hrsync.dev/shard": "west"})
    await api.create_integration("nowhere", spec)
    east = fast_settings(label_selector="hrsync.dev/shard=east")
    west = fast_settings(label_selector="hrsync.dev/shard=west")
    async with (
        running_operator(cluster, east, clock, token="east-token"),
        running_operator(cluster, west, clock, token="west-token"),
    ):
        await eventually(settled(api, "east", 1), what="the east shard's run")
        await eventually(settled(api, "west", 1), what="the west shard's run")
        await stays(lambda: _untouched(api, "nowhere"), seconds=0.5, what="an integration no shard selects")

    for shard in ("east", "west"):
        names = {request.name for request in operator_requests(cluster, token=f"{shard}-token") if request.name}
        assert names - {"personio-credentials", "scim-bearer"} == {shard}, names


async def _untouched(api: Api, name: str) -> bool:
    return not (await api.status(name)) and not api.reasons(name)
