"""A person as a v1 ``Employee``: every attribute wrapped as ``{label, value, type, universal_id}``."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from personio_testkit.personio_sandbox.attributes import V1_ATTRIBUTES, Visibility
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.config import V1Quirks
from personio_testkit.personio_sandbox.models import OrgUnit, Person

# v1 renders dates and timestamps in the company's local time with an offset.
COMPANY_TIMEZONE = ZoneInfo("Europe/Berlin")


class V1Renderer:
    def __init__(self, company: Company, visibility: Visibility, quirks: V1Quirks, base_url: str) -> None:
        self.company = company
        self.visibility = visibility
        self.quirks = quirks
        self.base_url = base_url

    def employee(self, person: Person, projection: set[str] | None = None) -> dict[str, Any]:
        values = self._values(person)
        attributes: dict[str, Any] = {}
        for key, value in values.items():
            if key != "id" and projection is not None and key not in projection:
                continue
            if not self.visibility.can_read(key):
                continue
            attributes[key] = self._wrap(key, value)
        for custom in person.custom_attributes:
            if (projection is None or custom.id in projection) and self.visibility.can_read(custom.id):
                value = custom.value if isinstance(custom.value, str) else ",".join(custom.value)
                attributes[custom.id] = {
                    "label": custom.label,
                    "value": value,
                    "type": "tags" if custom.type == "STRING_LIST" else "standard",
                    "universal_id": custom.global_id,
                }
        return {"type": "Employee", "attributes": attributes}

    def _values(self, person: Person) -> dict[str, Any]:
        job = person.current
        termination = job.termination
        values: dict[str, Any] = {
            "id": self._number(person.id),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "preferred_name": person.preferred_name,
            "email": person.email,
            "gender": None if person.gender == "UNSPECIFIED" else person.gender.lower(),
            "status": job.status.lower(),
            "position": job.position,
            "supervisor": self._supervisor(job.supervisor_id),
            "employment_type": job.type.lower(),
            "weekly_working_hours": self._number(job.weekly_working_hours),
            "hire_date": _local_date(job.employment_start_date),
            "contract_end_date": _local_date(job.contract_end_date),
            "termination_date": _local_date(termination.termination_date if termination else None),
            "termination_type": termination.type.lower() if termination else self._empty_text(),
            "termination_reason": (termination.reason or self._empty_text()) if termination else self._empty_text(),
            "probation_period_end": _local_date(job.probation_end_date),
            "created_at": _local_timestamp(person.created_at),
            "last_modified_at": _local_timestamp(person.last_modified_at),
            "subcompany": self._named("Subcompany", self.company.legal_entities.get(job.legal_entity_id)),
            "office": self._named("Office", self.company.workplaces.get(job.office_id)),
            "department": self._named("Department", self.company.departments.get(job.department_id)),
            "cost_centers": [
                {"type": "CostCenter", "attributes": {"id": self._number(c.id), "name": c.name, "percentage": c.weight}}
                for c in job.cost_centers
            ],
            "team": self._named("Team", self.company.teams.get(job.team_id)),
            "last_working_day": _local_date(termination.last_working_day if termination else None),
            "profile_picture": f"{self.base_url}/v1/company/employees/{person.id}/profile-picture",
        }
        return values

    def _wrap(self, key: str, value: Any) -> dict[str, Any]:
        label, kind = V1_ATTRIBUTES[key]
        if key == "office":
            label = self.quirks.office_label
        return {"label": label, "value": value, "type": kind, "universal_id": key}

    def _supervisor(self, supervisor_id: int | None) -> Any:
        supervisor = self.company.find_person(supervisor_id) if supervisor_id is not None else None
        if supervisor is None:
            return self._empty_object()
        short: dict[str, Any] = {"id": self._wrap("id", self._number(supervisor.id))}
        for key in ("first_name", "last_name", "email"):
            if self.visibility.can_read(key):
                short[key] = self._wrap(key, getattr(supervisor, key))
        return {"type": "Employee", "attributes": short}

    def _named(self, kind: str, record: OrgUnit | Any | None) -> Any:
        if record is None:
            return self._empty_object()
        return {"type": kind, "attributes": {"id": self._number(record.id), "name": record.name}}

    def _number(self, value: float) -> Any:
        if self.quirks.numbers_as_strings:
            return str(int(value)) if float(value).is_integer() else str(value)
        return int(value) if float(value).is_integer() else value

    def _empty_object(self) -> Any:
        return {"null": None, "empty_string": "", "empty_list": []}[self.quirks.empty_objects_as]

    def _empty_text(self) -> str | None:
        return "" if self.quirks.empty_objects_as == "empty_string" else None


def attribute_catalogue(company: Company, visibility: Visibility, quirks: V1Quirks) -> list[dict[str, Any]]:
    """``GET /v1/company/employees/attributes``: the keys this credential may read."""
    entries = []
    for key, (label, kind) in V1_ATTRIBUTES.items():
        if visibility.can_read(key):
            shown = quirks.office_label if key == "office" else label
            options = ["internal", "external"] if key == "employment_type" else []
            if key == "status":
                options = ["onboarding", "active", "leave", "inactive"]
            entries.append({"key": key, "label": shown, "type": kind, "universal_id": key, "options": options})
    customs: dict[str, str] = {}
    for person in company.persons():
        for custom in person.custom_attributes:
            customs.setdefault(custom.id, custom.label)
    for key, label in customs.items():
        if visibility.can_read(key):
            entries.append({"key": key, "label": label, "type": "standard", "universal_id": None, "options": []})
    return entries


def _local_date(day: date | None) -> str | None:
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=COMPANY_TIMEZONE).isoformat()


def _local_timestamp(moment: datetime) -> str:
    return moment.astimezone(COMPANY_TIMEZONE).replace(microsecond=0).isoformat()
