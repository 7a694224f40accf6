"""Change knobs: each change is visible to the next request over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.personio_sandbox.helpers import v1_headers, v2_headers, walk_v2


@pytest.fixture
def client(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox), timeout=10) as client:
        yield client


def _employment(client, person_id):
    return client.get(f"/v2/persons/{person_id}/employments").json()["_data"][0]


def test_hire_adds_a_person_to_both_apis(sandbox, client):
    new_id = sandbox.company.hire(
        first_name="Zoë",
        last_name="Łukaszewicz",
        email="zoe.lukaszewicz@sandbox-gmbh.example.com",
        department_id=9002,
        team_id=9101,
        office_id=60301,
        supervisor_id=1003,
        position="Backend Engineer",
        employment_type="EXTERNAL",
    )
    person = client.get(f"/v2/persons/{new_id}").json()
    assert (person["first_name"], person["last_name"], person["status"]) == ("Zoë", "Łukaszewicz", "ACTIVE")
    employment = _employment(client, new_id)
    assert employment["type"] == "EXTERNAL"
    assert employment["supervisor"] == {"id": "1003"}
    v1 = httpx.get(f"{sandbox.base_url}/v1/company/employees/{new_id}", headers=v1_headers(sandbox)).json()["data"][
        "attributes"
    ]
    assert v1["employment_type"]["value"] == "external"
    assert v1["team"]["value"]["attributes"]["id"] == 9101


def test_hire_refuses_a_duplicate_email_and_unknown_references(sandbox):
    taken = sandbox.company.person(1002).email
    with pytest.raises(ValueError, match="already belongs to person 1002"):
        sandbox.company.hire(first_name="A", last_name="B", email=taken.upper())
    with pytest.raises(ValueError, match="department 1"):
        sandbox.company.hire(first_name="A", last_name="B", email="a.b@example.com", department_id=1)
    assert len(sandbox.company) == 30


def test_terminate_then_rehire(sandbox, client):
    sandbox.company.terminate(1010, termination_type="QUIT", reason="Umzug")
    assert client.get("/v2/persons/1010").json()["status"] == "INACTIVE"
    ended = _employment(client, 1010)
    assert ended["status"] == "INACTIVE"
    assert ended["termination"]["type"] == "QUIT"
    assert ended["termination"]["reason"] == "Umzug"
    inactive = client.get("/v2/persons", params={"status": "INACTIVE", "id": "1010"}).json()["_data"]
    assert [p["id"] for p in inactive] == ["1010"]

    new_employment = sandbox.company.rehire(1010)
    assert client.get("/v2/persons/1010").json()["status"] == "ACTIVE"
    employments = client.get("/v2/persons/1010/employments").json()["_data"]
    assert employments[0]["id"] == new_employment
    assert [e["status"] for e in employments][:2] == ["ACTIVE", "INACTIVE"]
    with pytest.raises(ValueError, match="still active"):
        sandbox.company.rehire(1010)


def test_move_department_and_rename_department(sandbox, client):
    sandbox.company.move_department(1012, 9008)
    assert {"type": "department", "id": "9008"} in _employment(client, 1012)["org_units"]
    sandbox.company.rename_department(9008, "Finanzen & Controlling")
    unit = client.get("/v2/org-units/9008", params={"type": "department"}).json()
    assert unit["name"] == "Finanzen & Controlling"
    v1 = httpx.get(f"{sandbox.base_url}/v1/company/employees/1012", headers=v1_headers(sandbox)).json()
    assert v1["data"]["attributes"]["department"]["value"]["attributes"]["name"] == "Finanzen & Controlling"


def test_change_email_and_supervisor(sandbox, client):
    sandbox.company.change_email(1015, "neue.adresse@sandbox-gmbh.example.com")
    found = client.get("/v2/persons", params={"email": "neue.adresse@sandbox-gmbh.example.com"}).json()["_data"]
    assert [p["id"] for p in found] == ["1015"]
    sandbox.company.change_supervisor(1015, 1001)
    assert _employment(client, 1015)["supervisor"] == {"id": "1001"}
    sandbox.company.change_supervisor(1015, None)
    assert "supervisor" not in _employment(client, 1015)
    with pytest.raises(ValueError, match="themselves"):
        sandbox.company.change_supervisor(1015, 1015)


def test_employment_change_moves_employment_updated_at_but_not_the_person(sandbox, client):
    before = client.get("/v2/persons/1012").json()["updated_at"]
    sandbox.company.move_team(1012, None)
    assert client.get("/v2/persons/1012").json()["updated_at"] == before
    assert _employment(client, 1012)["updated_at"] > before


def test_people_hired_and_removed_mid_walk(sandbox, client):
    first = client.get("/v2/persons", params={"limit": 10}).json()
    sandbox.company.remove(1020)
    new_id = sandbox.company.hire(first_name="Late", last_name="Joiner", email="late.joiner@sandbox-gmbh.example.com")
    rest = walk_v2(client, first["_meta"]["links"]["next"]["href"])
    ids = [p["id"] for p in first["_data"]] + [p["id"] for page in rest for p in page["_data"]]
    assert "1020" not in ids
    assert ids[-1] == str(new_id)
    assert len(ids) == len(set(ids)) == 30
