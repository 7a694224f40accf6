"""Hand-made Personio data and specs for the sync engine's unit tests."""

from __future__ import annotations

from typing import Any

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.personio.models import Employee, EmploymentStatus, EmploymentType, NamedRef, PersonRef


def make_spec(**overrides: Any) -> PersonioIntegrationSpec:
    """A valid spec; ``overrides`` are camelCase top-level keys merged over the defaults."""
    data: dict[str, Any] = {
        "personio": {"credentialsSecretRef": {"name": "personio-credentials"}, "baseUrl": "http://127.0.0.1:1"},
        "target": {"scim": {"url": "http://127.0.0.1:2/scim/v2", "credentialsSecretRef": {"name": "scim-token"}}},
    }
    data.update(overrides)
    return PersonioIntegrationSpec.model_validate(data)


def person(
    pid: str,
    first: str = "Anna",
    last: str | None = None,
    *,
    email: str | None = "",
    status: EmploymentStatus | None = EmploymentStatus.ACTIVE,
    kind: EmploymentType | None = EmploymentType.INTERNAL,
    position: str | None = None,
    supervisor: str | None = None,
    department: tuple[str, str | None] | None = None,
    team: tuple[str, str | None] | None = None,
    office: tuple[str, str | None] | None = None,
) -> Employee:
    last = last if last is not None else f"Person{pid}"
    if email == "":
        email = f"{first.lower()}.{last.lower()}@acme.example"
    return Employee(
        id=pid,
        first_name=first,
        last_name=last,
        email=email,
        status=status,
        employment_type=kind,
        position=position,
        supervisor=PersonRef(id=supervisor) if supervisor else None,
        department=NamedRef(id=department[0], name=department[1]) if department else None,
        team=NamedRef(id=team[0], name=team[1]) if team else None,
        office=NamedRef(id=office[0], name=office[1]) if office else None,
    )
