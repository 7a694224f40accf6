"""Pure parsing units: v1 value unwrapping and quirks, v2 person/employment reading, result assembly."""

from __future__ import annotations

from personio_operator.personio.models import Attribute, EmploymentStatus, EmploymentType, NamedRef
from personio_operator.personio.records import Collected, build_result, identifier
from personio_operator.personio.v1_records import parse_employee
from personio_operator.personio.v2_records import apply_employment, current_employment, parse_person


def _wrapped(value, label="x"):
    return {"label": label, "value": value, "type": "standard", "universal_id": None}


def test_v1_record_with_documented_quirks_parses():
    item = {
        "type": "Employee",
        "attributes": {
            "id": _wrapped("501"),  # number as string
            "first_name": _wrapped("Ana"),
            "last_name": _wrapped("Ruiz"),
            "email": _wrapped(" ana.ruiz@example.test "),
            "status": _wrapped("Leave"),
            "employment_type": _wrapped("external"),
            "position": _wrapped(""),  # "" means not set
            "supervisor": _wrapped({"type": "Employee", "attributes": {"id": _wrapped(77)}}),
            "department": _wrapped({"type": "Department", "attributes": {"id": 9001, "name": "Finance"}}),
            "team": _wrapped([]),  # [] for an empty object
            "office": _wrapped("", label="Workplace"),
        },
    }
    record = parse_employee(item)
    assert record is not None
    assert record.id == "501"
    assert record.email == "ana.ruiz@example.test"
    assert record.status is EmploymentStatus.LEAVE
    assert record.employment_type is EmploymentType.EXTERNAL
    assert record.position is None
    assert record.supervisor is not None and record.supervisor.id == "77"
    assert record.department == NamedRef(id="9001", name="Finance")
    assert record.team is None and record.office is None
    assert record.present == set(Attribute)


def test_v1_unknown_status_is_lenient_and_missing_id_is_rejected():
    record = parse_employee({"attributes": {"id": _wrapped(1), "status": _wrapped("paused")}})
    assert record is not None and record.status is EmploymentStatus.UNKNOWN
    assert parse_employee({"attributes": {"first_name": _wrapped("No id")}}) is None
    assert parse_employee("garbage") is None


def test_identifiers_agree_across_types():
    assert identifier(501) == identifier("501") == identifier(501.0) == "501"
    assert identifier("") is None and identifier(True) is None


def test_v2_fields_absent_differ_from_null():
    person = parse_person({"id": 5, "first_name": "A", "last_name": None, "employments": [{"id": "e"}]})
    assert person is not None
    assert person.present == {Attribute.FIRST_NAME, Attribute.LAST_NAME}
    apply_employment(person, {"status": "ONBOARDING", "type": "WHATEVER", "org_units": []})
    assert person.status is EmploymentStatus.ONBOARDING
    assert person.employment_type is EmploymentType.UNKNOWN
    assert Attribute.DEPARTMENT not in person.present  # no unit of that type listed
    assert Attribute.OFFICE not in person.present


def test_v2_employment_reads_refs_and_first_unit_of_each_type():
    person = parse_person({"id": "7"})
    assert person is not None
    apply_employment(
        person,
        {
            "status": "ACTIVE",
            "type": "INTERNAL",
            "position": {"title": "Controller"},
            "supervisor": {"id": 77},
            "office": {"id": "60310"},
            "org_units": [{"type": "team", "id": 3}, {"type": "department", "id": "9"}, {"type": "team", "id": 4}],
        },
    )
    assert person.position == "Controller"
    assert person.supervisor is not None and person.supervisor.id == "77"
    assert person.office == NamedRef(id="60310")
    assert person.department == NamedRef(id="9") and person.team == NamedRef(id="3")


def test_current_employment_is_the_latest_start():
    old = {"id": "old", "employment_start_date": "2019-01-01", "status": "INACTIVE"}
    new = {"id": "new", "employment_start_date": "2024-05-01", "status": "ACTIVE"}
    assert current_employment([old, new])["id"] == "new"
    assert current_employment([new, old])["id"] == "new"
    undated = {"id": "undated"}
    assert current_employment([undated, old])["id"] == "old"
    assert current_employment([]) is None


def test_result_reports_missing_only_when_absent_everywhere_and_collapses_duplicates():
    collected = Collected()
    a = parse_person({"id": "1", "first_name": "A", "last_name": "One"})
    b = parse_person({"id": "2", "first_name": "B", "last_name": "Two", "email": None})
    assert a and b
    assert collected.add(a) and collected.add(b)
    apply_employment(a, {"status": "ACTIVE", "supervisor": {"id": "2"}})
    assert not collected.add(parse_person({"id": "1", "first_name": "A", "last_name": "One"}))
    assert collected.warnings == []  # same person data as first listed: a plain duplicate
    assert not collected.add(parse_person({"id": "2", "first_name": "Bee", "last_name": "Two"}))
    wanted = {Attribute.FIRST_NAME, Attribute.EMAIL, Attribute.STATUS, Attribute.SUPERVISOR, Attribute.OFFICE}
    result = build_result("v2", collected, wanted, pages_read=1, all_pages_read=True)
    assert result.missing_attributes == [Attribute.OFFICE]  # email is null for B but present: not missing
    assert result.duplicates_collapsed == 2
    assert any("person 2 was returned twice with different data" in w for w in result.warnings)
    assert result.employees[1].first_name == "B"  # the first copy is kept
    first = result.employees[0]
    assert first.supervisor is not None and (first.supervisor.first_name, first.supervisor.last_name) == ("B", "Two")
    assert first.last_name is None  # LAST_NAME was not requested


def test_empty_company_reports_nothing_missing_but_warns():
    result = build_result("v1", Collected(), {Attribute.EMAIL}, pages_read=1, all_pages_read=True)
    assert result.employees == [] and result.missing_attributes == []
    assert result.warnings
