"""v2 persons, employments, org units and workplaces over real HTTP: paging, filters, errors."""

from __future__ import annotations

import httpx
import pytest

from personio_testkit.personio_sandbox import company_from_dict
from tests.personio_sandbox.helpers import v2_headers, walk_v2


@pytest.fixture
def client(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox), timeout=10) as client:
        yield client


def test_cursor_paging_returns_everyone_once_in_id_order(sandbox, client):
    pages = walk_v2(client, "/v2/persons", {"limit": 7})
    ids = [p["id"] for page in pages for p in page["_data"]]
    assert ids == [str(p.id) for p in sandbox.company.persons()]
    assert [len(page["_data"]) for page in pages] == [7, 7, 7, 7, 2]
    for page in pages[:-1]:
        href = page["_meta"]["links"]["next"]["href"]
        assert href.startswith(f"{sandbox.base_url}/v2/persons?cursor=cur_")
    assert pages[0]["_meta"]["links"]["self"]["href"].startswith(sandbox.base_url)


def test_default_limit_is_10(client):
    assert len(client.get("/v2/persons").json()["_data"]) == 10


def test_exactly_one_full_page_has_no_next_link(personio_sandbox):
    sandbox = personio_sandbox(employees=10, rate_limits=False)
    body = httpx.get(f"{sandbox.base_url}/v2/persons", headers=v2_headers(sandbox)).json()
    assert len(body["_data"]) == 10
    assert "next" not in body["_meta"]["links"]


def test_empty_company_gives_an_empty_page_without_next(personio_sandbox):
    sandbox = personio_sandbox(company=company_from_dict({}), rate_limits=False)
    body = httpx.get(f"{sandbox.base_url}/v2/persons", headers=v2_headers(sandbox)).json()
    assert body["_data"] == []
    assert "next" not in body["_meta"]["links"]


def test_filters_travel_inside_the_cursor(sandbox, client):
    pages = walk_v2(client, "/v2/persons", {"status": "INACTIVE", "limit": 1})
    inactive = [p["id"] for page in pages for p in page["_data"]]
    expected = [str(p.id) for p in sandbox.company.persons() if p.status == "INACTIVE"]
    assert inactive == expected
    assert len(expected) >= 2
    resent = client.get("/v2/persons", params={"status": "INACTIVE", "cursor": _cursor(pages[0])})
    assert resent.status_code == 200
    conflicting = client.get("/v2/persons", params={"status": "ACTIVE", "cursor": _cursor(pages[0])})
    assert conflicting.status_code == 400


def _cursor(page):
    return page["_meta"]["links"]["next"]["href"].split("cursor=")[1]


def test_id_and_email_filters_take_comma_lists(sandbox, client):
    people = sandbox.company.persons()
    wanted = [people[3], people[8]]
    by_id = client.get("/v2/persons", params={"id": f"{wanted[0].id},{wanted[1].id}"}).json()["_data"]
    assert [p["id"] for p in by_id] == [str(wanted[0].id), str(wanted[1].id)]
    by_email = client.get("/v2/persons", params={"email": f"{wanted[1].email.upper()},nobody@example.com"})
    assert [p["id"] for p in by_email.json()["_data"]] == [str(wanted[1].id)]


def test_time_filters(sandbox, client):
    sandbox.company.change_email(1005, "renamed@sandbox-gmbh.example.com")
    since = sandbox.company.person(1005).updated_at
    before = since.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    changed = client.get("/v2/persons", params={"updated_at.gt": "2026-06-01T00:00:00Z"}).json()["_data"]
    assert [p["id"] for p in changed] == ["1005"]
    older = client.get("/v2/persons", params={"created_at.lt": "2019-01-01T00:00:00Z", "limit": 50}).json()["_data"]
    expected = [str(p.id) for p in sandbox.company.persons() if p.created_at.year < 2019]
    assert [p["id"] for p in older] == expected
    assert client.get("/v2/persons", params={"updated_at.lt": before}).status_code == 200


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"updated_at.gt": "yesterday"}, "Provided request parameters are invalid."),
        ({"updated_at.gt": "2024-01-01"}, "Provided request parameters are invalid."),
        ({"created_at": "2024-01-01T00:00:00"}, "Provided request parameters are invalid."),
        ({"status": "active"}, "Provided request parameters are invalid."),
        ({"limit": "51"}, "Provided request parameters are invalid."),
        ({"limit": "0"}, "Provided request parameters are invalid."),
        ({"limit": "ten"}, "Provided request parameters are invalid."),
        ({"id.foo": "1"}, "Provided filter encoding is invalid."),
        ({"updated_at.gte": "2024-01-01T00:00:00Z"}, "Provided filter encoding is invalid."),
        ({"colour": "blue"}, "Provided request parameters are invalid."),
        ({"cursor": "cur_garbage!"}, "Provided request parameters are invalid."),
        ({"cursor": "abc"}, "Provided request parameters are invalid."),
    ],
)
def test_bad_parameters_are_a_problem_json_400(client, params, detail):
    response = client.get("/v2/persons", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["errors"][0]["detail"] == detail
    assert body["personio_trace_id"]


def test_get_person_and_unknown_person(client):
    assert client.get("/v2/persons/1004").json()["id"] == "1004"
    for missing in ("999999", "abc"):
        response = client.get(f"/v2/persons/{missing}")
        assert response.status_code == 404
        assert response.json()["errors"][0]["detail"] == "There is no resource for the specified id."


def test_employments_most_recent_first(sandbox, client):
    person = next(p for p in sandbox.company.persons() if len(p.employments) == 2)
    body = client.get(f"/v2/persons/{person.id}/employments").json()
    starts = [e["employment_start_date"] for e in body["_data"]]
    assert len(starts) == 2
    assert starts == sorted(starts, reverse=True)
    assert [e["id"] for e in body["_data"]] == [e.id for e in person.employments]
    assert body["_data"][1]["status"] == "INACTIVE"
    one = client.get(f"/v2/persons/{person.id}/employments/{person.employments[1].id}")
    assert one.json()["id"] == person.employments[1].id
    assert client.get(f"/v2/persons/{person.id}/employments/nope").status_code == 404
    assert client.get("/v2/persons/999999/employments").status_code == 404


def test_employment_carries_ids_for_org_units_office_and_supervisor(sandbox, client):
    person = sandbox.company.person(1004)
    employment = client.get("/v2/persons/1004/employments").json()["_data"][0]
    assert employment["supervisor"] == {"id": str(person.current.supervisor_id)}
    assert {"type": "department", "id": str(person.current.department_id)} in employment["org_units"]
    assert employment["person"] == {"id": "1004"}
    assert employment["_meta"]["links"]["supervisor"]["href"].endswith(f"/v2/persons/{person.current.supervisor_id}")


def test_person_status_follows_the_latest_employment(sandbox, client):
    for person in sandbox.company.persons():
        body = client.get(f"/v2/persons/{person.id}").json()
        expected = "ACTIVE" if person.current.status in ("ACTIVE", "LEAVE", "ONBOARDING") else "INACTIVE"
        assert body["status"] == expected


def test_org_units_need_a_type_and_give_the_parent_chain(sandbox, client):
    platform = next(d for d in sandbox.company.departments.values() if d.name == "Platform")
    assert client.get(f"/v2/org-units/{platform.id}").status_code == 400
    plain = client.get(f"/v2/org-units/{platform.id}", params={"type": "department"}).json()
    assert plain["name"] == "Platform"
    assert "parent_chain" not in plain
    chained = client.get(f"/v2/org-units/{platform.id}", params={"type": "department", "include_parent_chain": "true"})
    assert [u["name"] for u in chained.json()["parent_chain"]] == ["Engineering"]
    assert client.get(f"/v2/org-units/{platform.id}", params={"type": "team"}).status_code == 404
    team_id = next(iter(sandbox.company.teams))
    assert client.get(f"/v2/org-units/{team_id}", params={"type": "team"}).json()["type"] == "team"


def test_workplaces_page_by_cursor(sandbox, client):
    pages = walk_v2(client, "/v2/workplaces", {"limit": 4})
    names = [w["name"] for page in pages for w in page["_data"]]
    assert names == [w.name for _, w in sorted(sandbox.company.workplaces.items())]
    assert len(pages) == 2


def test_unknown_routes_are_404_problem_json(client):
    response = client.get("/v2/org-units")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == "The endpoint with /v2/org-units was not found."
