"""Generated companies: deterministic, realistic, and big enough to page 10,001 people quickly."""

from __future__ import annotations

import httpx
import pytest

from personio_testkit.personio_sandbox import generate_company
from tests.personio_sandbox.helpers import v1_headers, v2_headers, walk_v2


def test_same_seed_same_company_other_seed_other_company():
    assert generate_company(120, seed=7).to_data() == generate_company(120, seed=7).to_data()
    assert generate_company(120, seed=7).to_data() != generate_company(120, seed=8).to_data()


def test_supervisor_hierarchy_has_one_ceo_and_no_cycles():
    company = generate_company(300, seed=4)
    roots = [p for p in company.persons() if p.current.supervisor_id is None]
    assert [p.current.position for p in roots] == ["Chief Executive Officer"]
    for person in company.persons():
        seen, current = set(), person
        while current.current.supervisor_id is not None:
            assert current.id not in seen, f"cycle through {current.id}"
            seen.add(current.id)
            current = company.person(current.current.supervisor_id)
        assert current.id == roots[0].id


def test_mix_covers_every_edge_case():
    company = generate_company(60, seed=2)
    people = company.persons()
    assert {p.current.status for p in people} == {"ONBOARDING", "ACTIVE", "LEAVE", "INACTIVE"}
    assert {p.current.type for p in people} == {"INTERNAL", "EXTERNAL"}
    assert all(p.current.termination for p in people if p.current.status == "INACTIVE")
    assert any(len(p.employments) == 2 for p in people)
    assert any(p.current.team_id is None for p in people)
    assert any(p.current.office_id is None for p in people)
    assert any(p.current.position is None for p in people)
    names = "".join(f"{p.first_name}{p.last_name}" for p in people)
    assert any(ch in names for ch in "äöüßéł")
    assert any(ord(ch) > 0x3000 or 0x400 <= ord(ch) < 0x500 for ch in names), "a CJK or Cyrillic name"
    assert all(p.email and p.email.isascii() for p in people)
    assert len({p.email for p in people}) == len(people)
    assert any(d.parent_id for d in company.departments.values())


def test_small_and_empty_companies():
    assert len(generate_company(0)) == 0
    assert [p.current.supervisor_id for p in generate_company(1).persons()] == [None]
    with pytest.raises(ValueError, match="0 or more"):
        generate_company(-1)


@pytest.mark.slow
def test_10001_employees_page_through_v2_and_v1(personio_sandbox):
    sandbox = personio_sandbox(employees=10_001, seed=11, rate_limits=False)
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox), timeout=30) as client:
        pages = walk_v2(client, "/v2/persons", {"limit": 50})
    ids = [p["id"] for page in pages for p in page["_data"]]
    assert len(pages) == 201
    assert len(ids) == len(set(ids)) == 10_001
    with httpx.Client(base_url=sandbox.base_url, headers=v1_headers(sandbox), timeout=30) as client:
        total, offset = 0, 0
        while True:
            body = client.get("/v1/company/employees", params={"limit": 100, "offset": offset}).json()
            total += len(body["data"])
            if body["metadata"]["current_page"] >= body["metadata"]["total_pages"] - 1:
                break
            offset += 100
    assert (total, body["metadata"]["total_pages"]) == (10_001, 101)
