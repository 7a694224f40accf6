"""Fetching over real HTTP from the Personio sandbox: both versions agree with each other and with the company."""

from __future__ import annotations

import pytest

from personio_operator.personio.models import Attribute, EmploymentStatus, EmploymentType
from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from tests.personio_client.helpers import ALL_ATTRIBUTES, by_id, fetch

NO_LIMITS = SandboxConfig(rate_limits=False)


async def test_v1_and_v2_read_the_same_people_as_the_company_holds():
    company = generate_company(employees=250, seed=7)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        v2 = await fetch(sandbox, "v2")
        v1 = await fetch(sandbox, "v1")

    assert v2.complete and v1.complete
    assert v2.missing_attributes == [] and v1.missing_attributes == []
    assert [e.id for e in v2.employees] == [e.id for e in v1.employees]
    assert v2.employees == v1.employees

    truth = {str(p.id): p for p in company.persons()}
    assert set(by_id(v2.employees)) == set(truth)
    statuses, types = set(), set()
    for employee in v2.employees:
        person = truth[employee.id]
        job = person.current
        assert (employee.first_name, employee.last_name, employee.email) == (
            person.first_name,
            person.last_name,
            person.email,
        )
        assert employee.status == EmploymentStatus(job.status.lower())
        assert employee.employment_type == EmploymentType(job.type.lower())
        assert employee.position == job.position
        assert (employee.supervisor.id if employee.supervisor else None) == (
            str(job.supervisor_id) if job.supervisor_id else None
        )
        if job.supervisor_id:
            boss = truth[str(job.supervisor_id)]
            assert (employee.supervisor.first_name, employee.supervisor.last_name) == (boss.first_name, boss.last_name)
        for field, unit_id, table in (
            ("department", job.department_id, company.departments),
            ("team", job.team_id, company.teams),
            ("office", job.office_id, company.workplaces),
        ):
            ref = getattr(employee, field)
            if unit_id is None:
                assert ref is None
            else:
                assert (ref.id, ref.name) == (str(unit_id), table[unit_id].name)
        statuses.add(employee.status)
        types.add(employee.employment_type)
    # The generated company covers every status and type, so the comparison above covered them too.
    assert statuses >= {EmploymentStatus.ACTIVE, EmploymentStatus.INACTIVE, EmploymentStatus.LEAVE}
    assert types == {EmploymentType.INTERNAL, EmploymentType.EXTERNAL}


async def test_v2_makes_the_minimum_number_of_calls():
    company = generate_company(employees=120, seed=3)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        result = await fetch(sandbox, "v2")
        calls = sandbox.stats.calls

    persons = list(company.persons())
    departments = {p.current.department_id for p in persons} - {None}
    teams = {p.current.team_id for p in persons} - {None}
    assert result.pages_read == 3
    assert calls["POST /v2/auth/token"] == 1
    assert calls["GET /v2/persons"] == 3
    assert calls["GET /v2/persons/{person_id}/employments"] == 120
    assert calls["GET /v2/org-units/{unit_id}"] == len(departments) + len(teams)
    assert calls["GET /v2/workplaces"] == 1


async def test_only_requested_attributes_are_read_and_returned():
    company = generate_company(employees=30, seed=2)
    wanted = {Attribute.FIRST_NAME, Attribute.LAST_NAME, Attribute.EMAIL, Attribute.STATUS, Attribute.EMPLOYMENT_TYPE}
    with SandboxServer(company, NO_LIMITS) as sandbox:
        v2 = await fetch(sandbox, "v2", wanted)
        v1 = await fetch(sandbox, "v1", wanted)
        calls = sandbox.stats.calls
    assert v1.employees == v2.employees
    assert all(e.department is None and e.supervisor is None and e.position is None for e in v2.employees)
    assert "GET /v2/org-units/{unit_id}" not in calls and "GET /v2/workplaces" not in calls


@pytest.mark.parametrize(
    ("employees", "v2_pages", "v1_pages"),
    [(0, 1, 1), (50, 1, 1), (100, 2, 1), (101, 3, 2)],
)
async def test_paging_edges(employees, v2_pages, v1_pages):
    company = generate_company(employees=employees, seed=5)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        v2 = await fetch(sandbox, "v2")
        v1 = await fetch(sandbox, "v1")
        calls = sandbox.stats.calls
    assert len(v2.employees) == len(v1.employees) == employees
    assert len({e.id for e in v2.employees}) == employees
    assert (v2.pages_read, v1.pages_read) == (v2_pages, v1_pages)
    assert calls["GET /v2/persons"] == v2_pages
    assert calls["GET /v1/company/employees"] == v1_pages
    assert v2.all_pages_read and v1.all_pages_read
    assert v2.missing_attributes == v1.missing_attributes == []


@pytest.mark.slow
async def test_ten_thousand_and_one_employees():
    company = generate_company(employees=10_001, seed=11)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        # The budget is a safety net here, not the subject: on a busy 2-core machine 10,001 people take ~60 s.
        v2 = await fetch(sandbox, "v2", budget_seconds=600)
        v1 = await fetch(sandbox, "v1", budget_seconds=600)
        calls = sandbox.stats.calls
    assert len(v2.employees) == 10_001 and v2.pages_read == 201 and v2.complete
    assert len(v1.employees) == 10_001 and v1.pages_read == 101 and v1.complete
    assert v1.employees == v2.employees
    assert calls["GET /v2/persons/{person_id}/employments"] == 10_001


async def test_whitelist_gaps_are_reported_as_missing_attributes():
    whitelist = frozenset({"first_name", "last_name", "status", "employment_type", "department"})
    company = generate_company(employees=40, seed=9)
    with SandboxServer(company, SandboxConfig(rate_limits=False, whitelist=whitelist)) as sandbox:
        v2 = await fetch(sandbox, "v2")
        v1 = await fetch(sandbox, "v1")
    expected = sorted(
        [Attribute.EMAIL, Attribute.POSITION, Attribute.SUPERVISOR, Attribute.TEAM, Attribute.OFFICE],
        key=lambda a: a.value,
    )
    for result in (v2, v1):
        assert result.missing_attributes == expected
        assert result.missing_required == [Attribute.EMAIL]
        assert not result.complete
        assert all(e.email is None for e in result.employees)
        assert any(e.department is not None for e in result.employees)
    assert v1.employees == v2.employees


async def test_credential_that_reads_nothing_reports_every_attribute_missing():
    company = generate_company(employees=10, seed=1)
    with SandboxServer(company, SandboxConfig(rate_limits=False, whitelist=frozenset())) as sandbox:
        result = await fetch(sandbox, "v2")
    assert [e.id for e in result.employees] == [str(p.id) for p in company.persons()]
    assert set(result.missing_attributes) == ALL_ATTRIBUTES
