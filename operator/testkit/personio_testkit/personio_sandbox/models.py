"""The sandbox company's records, as plain pydantic models (also the fixture file format).

Ids are integers (v1 uses them as numbers, v2 as strings). Status and type names follow v2
(upper case); fixtures may write them in lower case.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# A fixed namespace so that fixture employments without an id get the same id on every load.
EMPLOYMENT_ID_NAMESPACE = uuid.UUID("6f1c2b4e-4d0a-4b8e-9f57-8a9d2c3e5b11")
FIXTURE_EPOCH = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


EmploymentStatusName = Annotated[Literal["ONBOARDING", "ACTIVE", "LEAVE", "INACTIVE"], BeforeValidator(_upper)]
EmploymentTypeName = Annotated[Literal["INTERNAL", "EXTERNAL"], BeforeValidator(_upper)]
GenderName = Annotated[Literal["UNSPECIFIED", "MALE", "FEMALE", "DIVERSE"], BeforeValidator(_upper)]
TerminationTypeName = Annotated[
    Literal[
        "UNSPECIFIED", "EMPLOYEE", "FIRED", "DEATH", "CONTRACT_EXPIRED", "AGREEMENT", "SUB_COMPANY_SWITCH",
        "IRREVOCABLE_SUSPENSION", "CANCELLATION", "COLLECTIVE_AGREEMENT", "SETTLEMENT_AGREEMENT", "RETIREMENT",
        "COURT_SETTLEMENT", "QUIT",
    ],
    BeforeValidator(_upper),
]  # fmt: skip

ACTIVE_EMPLOYMENT_STATUSES = frozenset({"ONBOARDING", "ACTIVE", "LEAVE"})


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class OrgUnit(_Record):
    """A department or a team. Departments may have a parent department; teams are flat."""

    id: int
    name: str
    abbreviation: str | None = None
    description: str | None = None
    parent_id: int | None = None


class Workplace(_Record):
    """An office ("Workplace" in newer Personio wording)."""

    id: int
    name: str


class LegalEntity(_Record):
    id: int
    name: str


class CostCenterShare(_Record):
    id: int
    name: str
    weight: float = 100


class Termination(_Record):
    termination_date: date
    last_working_day: date
    terminated_at: date
    type: TerminationTypeName = "EMPLOYEE"
    reason: str = ""


class CustomAttribute(_Record):
    id: str  # e.g. "dynamic_305" (also the v1 attribute key)
    label: str
    global_id: str | None = None
    type: Literal["STRING", "INT", "DOUBLE", "DATE", "BOOLEAN", "STRING_LIST"] = "STRING"
    value: str | list[str]


class Employment(_Record):
    id: str = ""  # filled from the person id and position in the list when empty
    status: EmploymentStatusName = "ACTIVE"
    type: EmploymentTypeName = "INTERNAL"
    position: str | None = None
    supervisor_id: int | None = None
    department_id: int | None = None
    team_id: int | None = None
    office_id: int | None = None
    legal_entity_id: int | None = None
    cost_centers: list[CostCenterShare] = Field(default_factory=list)
    weekly_working_hours: float = 40
    full_time_weekly_working_hours: float = 40
    employment_start_date: date = date(2020, 1, 1)
    employment_end_date: date | None = None
    contract_end_date: date | None = None
    probation_end_date: date | None = None
    termination: Termination | None = None
    created_at: datetime = FIXTURE_EPOCH
    updated_at: datetime = FIXTURE_EPOCH


class Person(_Record):
    id: int
    first_name: str | None = None
    last_name: str | None = None
    preferred_name: str | None = None
    email: str | None = None
    gender: GenderName = "UNSPECIFIED"
    created_at: datetime = FIXTURE_EPOCH
    updated_at: datetime = FIXTURE_EPOCH
    # Most recent first; the first one is the current employment.
    employments: list[Employment] = Field(default_factory=lambda: [Employment()])
    custom_attributes: list[CustomAttribute] = Field(default_factory=list)
    # When each v1 attribute key last changed (set by the change knobs; used by v1 updated_since).
    changed_at: dict[str, datetime] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fill_employment_ids(self) -> Person:
        if not self.employments:
            raise ValueError(f"person {self.id} needs at least one employment (Personio has no person without one)")
        for index, employment in enumerate(self.employments):
            if not employment.id:
                employment.id = str(uuid.uuid5(EMPLOYMENT_ID_NAMESPACE, f"{self.id}/{len(self.employments) - index}"))
        return self

    @property
    def current(self) -> Employment:
        return self.employments[0]

    @property
    def status(self) -> Literal["ACTIVE", "INACTIVE"]:
        """v2 person status: derived from the latest employment."""
        return "ACTIVE" if self.current.status in ACTIVE_EMPLOYMENT_STATUSES else "INACTIVE"

    @property
    def last_modified_at(self) -> datetime:
        """v1 ``last_modified_at``: v1 has one record per person, so employment changes count too."""
        return max([self.updated_at, *(e.updated_at for e in self.employments)])


class CompanyData(_Record):
    """A whole company: what fixtures contain and what ``Company.to_data()`` returns."""

    name: str = "Sandbox GmbH"
    departments: list[OrgUnit] = Field(default_factory=list)
    teams: list[OrgUnit] = Field(default_factory=list)
    workplaces: list[Workplace] = Field(default_factory=list)
    legal_entities: list[LegalEntity] = Field(default_factory=list)
    persons: list[Person] = Field(default_factory=list)
