"""Exact companies from JSON/YAML fixtures, with clear errors for broken files."""

from __future__ import annotations

import json

import httpx
import pytest

from personio_testkit.personio_sandbox import FixtureError, generate_company, load_company, save_company
from tests.personio_sandbox.helpers import v2_headers

FIXTURE_YAML = """
name: Kleine Firma GmbH
departments:
  - {id: 1, name: Technik}
  - {id: 2, name: Backend-Entwicklung, parent_id: 1}
teams:
  - {id: 10, name: Team Süd}
workplaces:
  - {id: 100, name: München}
persons:
  - id: 7
    first_name: Jürgen
    last_name: Groß
    email: juergen.gross@kleine-firma.example.com
    employments: [{department_id: 1, office_id: 100, position: CTO}]
  - id: 8
    first_name: Ana
    last_name: Ruiz
    email: ana.ruiz@kleine-firma.example.com
    employments:
      - {status: leave, department_id: 2, team_id: 10, supervisor_id: 7}
      - status: inactive
        type: external
        termination: {termination_date: 2020-01-31, last_working_day: 2020-01-31, terminated_at: 2019-12-01}
"""


def test_yaml_fixture_is_served_exactly(tmp_path, personio_sandbox):
    path = tmp_path / "company.yaml"
    path.write_text(FIXTURE_YAML, encoding="utf-8")
    sandbox = personio_sandbox(company=load_company(path), rate_limits=False)
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox)) as client:
        persons = client.get("/v2/persons").json()["_data"]
        assert [(p["id"], p["first_name"], p["status"]) for p in persons] == [
            ("7", "Jürgen", "ACTIVE"),
            ("8", "Ana", "ACTIVE"),
        ]
        employments = client.get("/v2/persons/8/employments").json()["_data"]
    assert [e["status"] for e in employments] == ["LEAVE", "INACTIVE"]
    assert employments[0]["org_units"] == [{"type": "department", "id": "2"}, {"type": "team", "id": "10"}]
    assert employments[0]["id"] != employments[1]["id"]
    assert load_company(path).person(8).employments[0].id == employments[0]["id"], "ids are stable across loads"


def test_save_and_load_round_trip(tmp_path):
    company = generate_company(40, seed=5)
    for name in ("company.json", "company.yaml"):
        save_company(company, tmp_path / name)
        assert load_company(tmp_path / name).to_data() == company.to_data()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"persons": [{"id": 1, "employments": [{"department_id": 5}]}]}, "department 5, which does not exist"),
        ({"persons": [{"id": 1, "email": "a@x.example"}, {"id": 2, "email": "A@x.example"}]}, "already belongs"),
        ({"persons": [{"id": 1}, {"id": 1}]}, "share the id 1"),
        ({"persons": [{"id": 1, "employments": [{"status": "retired"}]}]}, "persons.0.employments.0.status"),
        ({"persons": [{"id": 1, "salary": 3}]}, "persons.0.salary"),
        ({"persons": [{"id": 1, "employments": []}]}, "at least one employment"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_broken_fixtures_say_what_to_fix(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(content))
    with pytest.raises(FixtureError, match=message) as caught:
        load_company(path)
    assert str(path) in str(caught.value)


def test_unreadable_or_unparsable_files(tmp_path):
    with pytest.raises(FixtureError, match="Cannot read"):
        load_company(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("persons: [\n")
    with pytest.raises(FixtureError, match="not valid YAML"):
        load_company(bad)
