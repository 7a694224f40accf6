"""Persons, employments, org units and workplaces as v2 JSON, minus what the credential may not read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from personio_testkit.personio_sandbox.attributes import V2_EMPLOYMENT_FIELDS, V2_PERSON_FIELDS, Visibility
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.models import Employment, OrgUnit, Person, Workplace


def utc_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


class V2Renderer:
    def __init__(self, company: Company, visibility: Visibility, base_url: str) -> None:
        self.company = company
        self.visibility = visibility
        self.base_url = base_url
        self._person_fields = self._unlocked(V2_PERSON_FIELDS)
        self._employment_fields = self._unlocked(V2_EMPLOYMENT_FIELDS)

    def _unlocked(self, table: dict[str, tuple[str, ...]]) -> set[str]:
        return {field for key, fields in table.items() if self.visibility.can_read(key) for field in fields}

    def person(self, person: Person) -> dict[str, Any]:
        candidates: dict[str, Any] = {
            "email": person.email,
            "created_at": utc_timestamp(person.created_at),
            "updated_at": utc_timestamp(person.updated_at),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "preferred_name": person.preferred_name,
            "gender": person.gender,
            "profile_picture": {"url": f"{self.base_url}/v1/company/employees/{person.id}/profile-picture"},
            "status": person.status,
        }
        body: dict[str, Any] = {"id": str(person.id)}
        body.update({k: v for k, v in candidates.items() if k in self._person_fields and v is not None})
        custom = [
            {"id": c.id, "type": c.type, "global_id": c.global_id, "label": c.label, "value": c.value}
            for c in person.custom_attributes
            if self.visibility.can_read(c.id)
        ]
        if custom:
            body["custom_attributes"] = [{k: v for k, v in c.items() if v is not None} for c in custom]
        body["employments"] = [{"id": e.id} for e in person.employments]
        body["_meta"] = {"links": {"employments": {"href": f"{self.base_url}/v2/persons/{person.id}/employments"}}}
        return body

    def employment(self, person: Person, employment: Employment) -> dict[str, Any]:
        org_units = []
        if employment.department_id is not None and self.visibility.can_read("department"):
            org_units.append({"type": "department", "id": str(employment.department_id)})
        if employment.team_id is not None and self.visibility.can_read("team"):
            org_units.append({"type": "team", "id": str(employment.team_id)})
        termination = employment.termination
        candidates: dict[str, Any] = {
            "position": {"title": employment.position} if employment.position is not None else None,
            "status": employment.status,
            "weekly_working_hours": employment.weekly_working_hours,
            "full_time_weekly_working_hours": employment.full_time_weekly_working_hours,
            "probation_end_date": _day(employment.probation_end_date),
            "employment_start_date": _day(employment.employment_start_date),
            "employment_end_date": _day(employment.employment_end_date),
            "type": employment.type,
            "contract_end_date": _day(employment.contract_end_date),
            "created_at": utc_timestamp(employment.created_at),
            "updated_at": utc_timestamp(employment.updated_at),
            "supervisor": {"id": str(employment.supervisor_id)} if employment.supervisor_id is not None else None,
            "office": {"id": str(employment.office_id)} if employment.office_id is not None else None,
            "org_units": org_units or None,
            "termination": _termination(termination) if termination else None,
            "cost_centers": [{"id": str(c.id), "weight": c.weight} for c in employment.cost_centers] or None,
            "legal_entity": {"id": str(employment.legal_entity_id)} if employment.legal_entity_id is not None else None,
        }
        body: dict[str, Any] = {"id": employment.id}
        body.update({k: v for k, v in candidates.items() if k in self._employment_fields and v is not None})
        body["person"] = {"id": str(person.id)}
        links = {"person": {"href": f"{self.base_url}/v2/persons/{person.id}"}}
        if "supervisor" in body:
            links["supervisor"] = {"href": f"{self.base_url}/v2/persons/{employment.supervisor_id}"}
        body["_meta"] = {"links": links}
        return body

    def org_unit(self, unit: OrgUnit, kind: str, *, parent_chain: bool) -> dict[str, Any]:
        body = self._org_unit_details(unit, kind)
        if parent_chain:
            chain, seen = [], {unit.id}
            parent_id = unit.parent_id
            while parent_id is not None and parent_id not in seen and parent_id in self.company.departments:
                parent = self.company.departments[parent_id]
                chain.append(self._org_unit_details(parent, kind))
                seen.add(parent_id)
                parent_id = parent.parent_id
            body["parent_chain"] = chain
        body["_meta"] = {"links": {"self": {"href": f"{self.base_url}/v2/org-units/{unit.id}?type={kind}"}}}
        return body

    @staticmethod
    def _org_unit_details(unit: OrgUnit, kind: str) -> dict[str, Any]:
        return {
            "id": str(unit.id),
            "type": kind,
            "name": unit.name,
            "abbreviation": unit.abbreviation,
            "description": unit.description,
            "parent_id": None if unit.parent_id is None else str(unit.parent_id),
        }

    @staticmethod
    def workplace(workplace: Workplace) -> dict[str, Any]:
        return {"id": str(workplace.id), "name": workplace.name}


def _termination(termination: Any) -> dict[str, Any]:
    return {
        "termination_date": termination.termination_date.isoformat(),
        "last_working_day": termination.last_working_day.isoformat(),
        "terminated_at": termination.terminated_at.isoformat(),
        "type": termination.type,
        "reason": termination.reason,
    }
