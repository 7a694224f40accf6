"""v1 ``/company/employees`` over real HTTP: offset paging, limits, projection, filters, quirks."""

from __future__ import annotations

import math

import httpx
import pytest

from tests.personio_sandbox.helpers import v1_headers


@pytest.fixture
def client(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers=v1_headers(sandbox), timeout=10) as client:
        yield client


def test_paging_metadata_and_walk(sandbox, client):
    seen, offset, limit = [], 0, 8
    while True:
        body = client.get("/v1/company/employees", params={"limit": limit, "offset": offset}).json()
        assert body["success"] is True
        assert (body["offset"], body["limit"]) == (offset, limit)
        assert body["metadata"] == {
            "total_elements": 30,
            "current_page": offset // limit,
            "total_pages": math.ceil(30 / limit),
        }
        seen += [e["attributes"]["id"]["value"] for e in body["data"]]
        if body["metadata"]["current_page"] >= body["metadata"]["total_pages"] - 1:
            break
        offset += limit
    assert seen == [p.id for p in sandbox.company.persons()]


def test_default_page_size_is_50(personio_sandbox):
    sandbox = personio_sandbox(employees=60, rate_limits=False)
    body = httpx.get(f"{sandbox.base_url}/v1/company/employees", headers=v1_headers(sandbox)).json()
    assert body["limit"] == 50
    assert len(body["data"]) == 50
    assert body["metadata"]["total_pages"] == 2


@pytest.mark.parametrize("limit", ["101", "0", "-1", "many"])
def test_limit_outside_1_to_100_is_refused(client, limit):
    response = client.get("/v1/company/employees", params={"limit": limit})
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": {"code": 0, "message": "The limit must be between 1 and 100."},
    }


def test_the_token_is_echoed_in_the_authorization_header(client):
    response = client.get("/v1/company/employees", params={"limit": 1})
    assert response.headers["authorization"] == client.headers["authorization"]


def test_attribute_wrapping_and_nested_objects(sandbox, client):
    person = sandbox.company.person(1004)
    body = client.get("/v1/company/employees", params={"email": person.email}).json()
    [employee] = body["data"]
    attributes = employee["attributes"]
    assert employee["type"] == "Employee"
    assert attributes["email"] == {"label": "Email", "value": person.email, "type": "standard", "universal_id": "email"}
    assert attributes["id"]["value"] == 1004
    assert attributes["status"]["value"] == person.current.status.lower()
    supervisor = attributes["supervisor"]["value"]
    assert supervisor["type"] == "Employee"
    assert supervisor["attributes"]["id"]["value"] == person.current.supervisor_id
    department = attributes["department"]["value"]
    assert department == {
        "type": "Department",
        "attributes": {"id": person.current.department_id, "name": sandbox.company.departments[9003].name},
    }
    assert attributes["office"]["label"] == "Workplace"
    assert attributes["hire_date"]["value"].startswith(person.current.employment_start_date.isoformat() + "T00:00:00+0")


def test_email_filter_returns_at_most_one(client):
    assert client.get("/v1/company/employees", params={"email": "nobody@example.com"}).json()["data"] == []


def test_attributes_projection_keeps_only_the_requested_keys(client):
    response = client.get(
        "/v1/company/employees", params=[("limit", "3"), ("attributes[]", "first_name"), ("attributes[]", "team")]
    )
    for employee in response.json()["data"]:
        assert set(employee["attributes"]) == {"id", "first_name", "team"}


def test_updated_since_selects_changed_people(sandbox, client):
    sandbox.company.move_department(1007, 9002)
    sandbox.company.change_email(1008, "new.address@sandbox-gmbh.example.com")
    params = {"updated_since": "2026-06-01T00:00:00", "email": "ignored@example.com"}
    changed = client.get("/v1/company/employees", params=params).json()
    assert [e["attributes"]["id"]["value"] for e in changed["data"]] == [1007, 1008]
    only_department = client.get(
        "/v1/company/employees", params=[("updated_since", "2026-06-01"), ("attributes[]", "department")]
    ).json()
    assert [e["attributes"]["id"]["value"] for e in only_department["data"]] == [1007]
    bad = client.get("/v1/company/employees", params={"updated_since": "last week"})
    assert bad.status_code == 400


def test_quirks_numbers_as_strings_and_empty_objects(personio_sandbox):
    from personio_testkit.personio_sandbox import V1Quirks

    quirks = V1Quirks(numbers_as_strings=True, empty_objects_as="empty_string", office_label="Office")
    sandbox = personio_sandbox(employees=30, rate_limits=False, v1_quirks=quirks)
    body = httpx.get(
        f"{sandbox.base_url}/v1/company/employees", params={"limit": 1}, headers=v1_headers(sandbox)
    ).json()
    ceo = body["data"][0]["attributes"]
    assert ceo["id"]["value"] == "1001"
    assert ceo["supervisor"]["value"] == ""
    assert ceo["termination_type"]["value"] == ""
    assert ceo["office"]["label"] == "Office"
    assert isinstance(ceo["weekly_working_hours"]["value"], str)


def test_single_employee_and_german_404(client):
    assert client.get("/v1/company/employees/1003").json()["data"]["attributes"]["id"]["value"] == 1003
    missing = client.get("/v1/company/employees/999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Es ist ein Problem aufgetreten "


def test_attribute_catalogue_lists_the_whitelist(sandbox, client):
    keys = [entry["key"] for entry in client.get("/v1/company/employees/attributes").json()["data"]]
    assert {"first_name", "email", "office", "dynamic_305"} <= set(keys)
    sandbox.credentials.whitelist = {"first_name", "email"}
    keys = [entry["key"] for entry in client.get("/v1/company/employees/attributes").json()["data"]]
    assert keys == ["id", "first_name", "email"]
