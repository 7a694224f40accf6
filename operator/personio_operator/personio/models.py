"""The Personio domain model: what every API version is read into.

The sync engine only ever sees these types; v1 and v2 specifics stay in their clients.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from personio_operator.run_warnings import RunWarning


class Attribute(StrEnum):
    """Personio attributes the integration reads (the required and optional attributes of the integration)."""

    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    EMAIL = "email"
    STATUS = "status"
    EMPLOYMENT_TYPE = "employment_type"
    POSITION = "position"  # job title
    SUPERVISOR = "supervisor"
    TEAM = "team"
    DEPARTMENT = "department"
    OFFICE = "office"


REQUIRED_ATTRIBUTES: frozenset[Attribute] = frozenset(
    {Attribute.FIRST_NAME, Attribute.LAST_NAME, Attribute.EMAIL, Attribute.STATUS, Attribute.EMPLOYMENT_TYPE}
)


class EmploymentStatus(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    LEAVE = "leave"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"  # a value Personio added later (enum drift) or UNSPECIFIED


class EmploymentType(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    UNKNOWN = "unknown"


class NamedRef(BaseModel):
    """An org unit or office: Personio id plus its display name (None when it could not be resolved)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None = None


class PersonRef(BaseModel):
    """A reference to another person, e.g. the supervisor."""

    model_config = ConfigDict(frozen=True)

    id: str
    first_name: str | None = None
    last_name: str | None = None


class Employee(BaseModel):
    """One Personio person with their current employment, as read by either API version.

    A field is None when Personio returned no value for this person. Whether an attribute is
    missing for *everyone* (not whitelisted on the credential) is reported by FetchResult.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    first_name: str | None = None
    last_name: str | None = None
    preferred_name: str | None = None
    email: str | None = None
    status: EmploymentStatus | None = None
    employment_type: EmploymentType | None = None
    position: str | None = None
    supervisor: PersonRef | None = None
    department: NamedRef | None = None
    team: NamedRef | None = None
    office: NamedRef | None = None


class FetchResult(BaseModel):
    """Everything one fetch read, and whether it can be trusted for destructive decisions."""

    api_version: str
    employees: list[Employee]
    pages_read: int = 0
    all_pages_read: bool = True
    # Requested attributes (required ones plus enabled optional ones) that the credential's
    # whitelist did not return for anybody.
    missing_attributes: list[Attribute] = Field(default_factory=list)
    duplicates_collapsed: int = 0
    warnings: list[RunWarning] = Field(default_factory=list)

    @property
    def missing_required(self) -> list[Attribute]:
        return [a for a in self.missing_attributes if a in REQUIRED_ATTRIBUTES]

    @property
    def complete(self) -> bool:
        """True when every page was read and every required attribute is present."""
        return self.all_pages_read and not self.missing_required
