"""Injected faults: error statuses for N calls, slow responses, and paging faults."""

from __future__ import annotations

import httpx
import pytest

from tests.personio_sandbox.helpers import v1_headers, v2_headers, walk_v2


@pytest.fixture
def client(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox), timeout=10) as client:
        yield client


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_for_n_calls_then_normal(sandbox, client, status):
    sandbox.faults.add("/v2/persons", status=status, times=2)
    assert [client.get("/v2/persons").status_code for _ in range(3)] == [status, status, 200]
    assert sandbox.faults.active == []


def test_fault_only_hits_its_path_and_method(sandbox, client):
    sandbox.faults.add("/v2/persons/1001/employments", status=502, times=1)
    assert client.get("/v2/persons").status_code == 200
    assert client.get("/v2/persons/1001/employments").status_code == 502


def test_v1_fault_uses_the_v1_envelope(sandbox):
    sandbox.faults.add("/v1/company/employees", status=500, times=1)
    response = httpx.get(f"{sandbox.base_url}/v1/company/employees", headers=v1_headers(sandbox))
    assert response.status_code == 500
    assert response.json() == {"success": False, "error": {"code": 500, "message": "Something went wrong"}}


def test_slow_response_trips_a_client_timeout_once(sandbox, client):
    sandbox.faults.add("/v2/persons", delay_seconds=1.0, times=1)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/v2/persons", timeout=0.2)
    assert client.get("/v2/persons", timeout=0.5).status_code == 200


def test_intermittent_404_on_employments(sandbox, client):
    sandbox.faults.intermittent_404(every=3)
    statuses = [client.get("/v2/persons/1001/employments").status_code for _ in range(6)]
    assert statuses == [200, 200, 404, 200, 200, 404]
    assert client.get("/v2/persons/1001").status_code == 200
    sandbox.faults.clear()
    assert client.get("/v2/persons/1001/employments").status_code == 200


def test_dropped_page_loses_items_but_still_links_next(sandbox, client):
    sandbox.faults.drop_page("/v2/persons", page_index=1, keep=2)
    pages = walk_v2(client, "/v2/persons", {"limit": 10})
    assert [len(p["_data"]) for p in pages] == [10, 2, 10]
    ids = [p["id"] for page in pages for p in page["_data"]]
    assert len(ids) == 22
    assert "next" in pages[1]["_meta"]["links"]


def test_empty_page_with_next_link(sandbox, client):
    sandbox.faults.drop_page("/v2/persons", page_index=0, keep=0)
    first = client.get("/v2/persons").json()
    assert first["_data"] == []
    assert "next" in first["_meta"]["links"]


def test_record_duplicated_across_pages(sandbox, client):
    sandbox.faults.duplicate_record("/v2/persons", page_index=2)
    pages = walk_v2(client, "/v2/persons", {"limit": 10})
    ids = [p["id"] for page in pages for p in page["_data"]]
    assert len(ids) == 31
    assert len(set(ids)) == 30
    assert pages[2]["_data"][0]["id"] == pages[1]["_data"][-1]["id"]


def test_v1_dropped_and_duplicated_pages(sandbox):
    sandbox.faults.drop_page("/v1/company/employees", page_index=0, keep=3)
    sandbox.faults.duplicate_record("/v1/company/employees", page_index=1)
    with httpx.Client(base_url=sandbox.base_url, headers=v1_headers(sandbox)) as client:
        first = client.get("/v1/company/employees", params={"limit": 10, "offset": 0}).json()
        second = client.get("/v1/company/employees", params={"limit": 10, "offset": 10}).json()
    assert len(first["data"]) == 3
    assert first["metadata"]["total_elements"] == 30
    assert second["data"][0]["attributes"]["id"]["value"] == 1010
    assert len(second["data"]) == 11


def test_repeated_cursor_loops_to_the_same_page(sandbox, client):
    sandbox.faults.repeat_cursor("/v2/persons", page_index=1, times=None)
    first = client.get("/v2/persons").json()
    second = client.get(first["_meta"]["links"]["next"]["href"]).json()
    third = client.get(second["_meta"]["links"]["next"]["href"]).json()
    assert second["_meta"]["links"]["next"]["href"] == first["_meta"]["links"]["next"]["href"]
    assert [p["id"] for p in third["_data"]] == [p["id"] for p in second["_data"]]


def test_bad_fault_definitions_are_refused(sandbox):
    with pytest.raises(ValueError, match="status"):
        sandbox.faults.add("/v2/persons")
    with pytest.raises(ValueError, match="400-599"):
        sandbox.faults.add("/v2/persons", status=200)
