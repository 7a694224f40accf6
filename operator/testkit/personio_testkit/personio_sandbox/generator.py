"""Deterministic, realistic companies: the same (employees, seed) always gives the same company."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from personio_testkit.personio_sandbox import names
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.models import (
    CompanyData,
    CostCenterShare,
    CustomAttribute,
    Employment,
    LegalEntity,
    OrgUnit,
    Person,
    Termination,
    Workplace,
)

# Generated dates are relative to this day (not to "now"), so a seed always gives the same data.
REFERENCE_DAY = date(2026, 1, 1)
EMAIL_DOMAIN = "sandbox-gmbh.example.com"
EXTERNAL_EMAIL_DOMAIN = "partner.example.com"
_FIRST_DEPARTMENT_ID = 9001
_FIRST_TEAM_ID = 9101
_FIRST_WORKPLACE_ID = 60301
_FIRST_PERSON_ID = 1001
_COST_CENTERS = ((4100, "Verwaltung"), (4200, "Entwicklung"), (4300, "Vertrieb"))


def generate_company(employees: int = 50, seed: int = 1, *, name: str = "Sandbox GmbH") -> Company:
    """A company with ``employees`` persons (ids from 1001), deterministic per ``seed``.

    Person 1001 is the CEO; every other person's supervisor has a smaller id (no cycles). The mix
    covers every employment status, internal and external staff, second employments, people
    without team / office / position, and names with umlauts, accents and non-Latin scripts.
    """
    if employees < 0:
        raise ValueError("employees must be 0 or more.")
    return Company(_CompanyGenerator(random.Random(seed), name).build(employees))


class _CompanyGenerator:
    def __init__(self, rng: random.Random, name: str) -> None:
        self.rng = rng
        self.name = name
        self.departments: list[OrgUnit] = []
        self.teams: list[OrgUnit] = []
        self.teams_of: dict[int, list[int]] = {}
        self.members_of: dict[int, list[int]] = {}
        self.emails: set[str] = set()

    def build(self, employees: int) -> CompanyData:
        self._org_units()
        workplaces = [Workplace(id=_FIRST_WORKPLACE_ID + i, name=n) for i, n in enumerate(names.WORKPLACES)]
        legal_entities = [LegalEntity(id=12 + i, name=n) for i, n in enumerate(names.LEGAL_ENTITIES)]
        persons = [self._person(index, employees, workplaces) for index in range(employees)]
        return CompanyData(
            name=self.name,
            departments=self.departments,
            teams=self.teams,
            workplaces=workplaces,
            legal_entities=legal_entities,
            persons=persons,
        )

    def _org_units(self) -> None:
        ids_by_name: dict[str, int] = {}
        for offset, (dept_name, abbreviation, parent) in enumerate(names.DEPARTMENTS):
            dept_id = _FIRST_DEPARTMENT_ID + offset
            ids_by_name[dept_name] = dept_id
            self.departments.append(
                OrgUnit(
                    id=dept_id,
                    name=dept_name,
                    abbreviation=abbreviation,
                    description=f"Abteilung {dept_name}",
                    parent_id=ids_by_name[parent] if parent else None,
                )
            )
            self.members_of[dept_id] = []
            self.teams_of[dept_id] = []
        team_id = _FIRST_TEAM_ID
        for dept_name, team_names in names.TEAMS.items():
            for team_name in team_names:
                self.teams.append(OrgUnit(id=team_id, name=team_name))
                self.teams_of[ids_by_name[dept_name]].append(team_id)
                team_id += 1

    def _person(self, index: int, total: int, workplaces: list[Workplace]) -> Person:
        rng = self.rng
        person_id = _FIRST_PERSON_ID + index
        special = _special_case(index, total)
        first, last, email_first, email_last = self._name(special)
        external = special == "external" or (special is None and index > len(self.departments) and rng.random() < 0.1)
        department_id, supervisor_id = self._placement(index, person_id)
        status = self._status(index, special)
        start = REFERENCE_DAY - timedelta(days=rng.randint(60, 3650))
        if status == "ONBOARDING":
            start = REFERENCE_DAY + timedelta(days=rng.randint(14, 120))
        dept_name = next(d.name for d in self.departments if d.id == department_id)
        team_choices = self.teams_of[department_id]
        team_id = rng.choice(team_choices) if team_choices else None
        office_id = rng.choice(workplaces).id
        position: str | None = rng.choice(names.POSITIONS.get(dept_name, ("Chief Executive Officer",)))
        if index == 0:
            position = "Chief Executive Officer"
        elif index <= len(self.departments):
            position = f"Head of {dept_name}"
        if special == "no_team" or (special is None and rng.random() < 0.03):
            team_id = None
        if special == "no_office" or (special is None and rng.random() < 0.03):
            office_id = None
        if special == "no_position" or (special is None and rng.random() < 0.02):
            position = None
        created = datetime.combine(start - timedelta(days=30), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        updated = created + timedelta(days=rng.randint(0, max(0, (REFERENCE_DAY - created.date()).days)))
        cost_center_id, cost_center_name = rng.choice(_COST_CENTERS)
        current = Employment(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            status=status,
            type="EXTERNAL" if external else "INTERNAL",
            position=position,
            supervisor_id=supervisor_id,
            department_id=department_id,
            team_id=team_id,
            office_id=office_id,
            legal_entity_id=13 if office_id in (_FIRST_WORKPLACE_ID + 3,) else 12,
            cost_centers=[CostCenterShare(id=cost_center_id, name=cost_center_name, weight=100)],
            weekly_working_hours=rng.choice((40, 40, 40, 32, 30, 20)),
            employment_start_date=start,
            probation_end_date=start + timedelta(days=180),
            contract_end_date=start + timedelta(days=365) if external else None,
            created_at=created,
            updated_at=updated,
        )
        if status == "INACTIVE":
            self._terminate(current, rng)
        employments = [current]
        if special == "two_employments" or (special is None and index > 0 and rng.random() < 0.05):
            employments.append(self._earlier_employment(current, rng))
        return Person(
            id=person_id,
            first_name=first,
            last_name=last,
            preferred_name=f"{first} {last}",
            email=self._email(email_first, email_last, external),
            gender=rng.choices(("FEMALE", "MALE", "DIVERSE", "UNSPECIFIED"), weights=(46, 46, 3, 5))[0],
            created_at=created,
            updated_at=updated,
            employments=employments,
            custom_attributes=[
                CustomAttribute(
                    id="dynamic_305", label="Cost code", global_id="cost_code", value=f"CC-{cost_center_id}"
                )
            ],
        )

    def _name(self, special: str | None) -> tuple[str, str, str, str]:
        if special == "non_latin" or self.rng.random() < 0.02:
            return self.rng.choice(names.NON_LATIN_NAMES)
        first, last = self.rng.choice(names.FIRST_NAMES), self.rng.choice(names.LAST_NAMES)
        return first, last, names.email_local_part(first), names.email_local_part(last)

    def _email(self, first: str, last: str, external: bool) -> str:
        domain = EXTERNAL_EMAIL_DOMAIN if external else EMAIL_DOMAIN
        base = f"{first}.{last}"
        candidate, suffix = f"{base}@{domain}", 2
        while candidate in self.emails:
            candidate, suffix = f"{base}{suffix}@{domain}", suffix + 1
        self.emails.add(candidate)
        return candidate

    def _placement(self, index: int, person_id: int) -> tuple[int, int | None]:
        """(department, supervisor): CEO, then one head per department, then staff under leads."""
        rng = self.rng
        ceo_id = _FIRST_PERSON_ID
        if index == 0:
            department_id = self.departments[0].id
            self.members_of[department_id].append(person_id)
            return department_id, None
        if index <= len(self.departments):
            department = self.departments[index - 1]
            parent_head = self.members_of[department.parent_id][0] if department.parent_id else ceo_id
            self.members_of[department.id].append(person_id)
            return department.id, parent_head if parent_head != person_id else ceo_id
        department_id = rng.choice(self.departments).id
        members = self.members_of[department_id]
        leads = members[: max(1, len(members) // 6 + 1)]
        supervisor_id = rng.choice(leads) if leads else ceo_id
        members.append(person_id)
        return department_id, supervisor_id

    def _status(self, index: int, special: str | None) -> str:
        if index <= len(self.departments):
            return "ACTIVE"
        if special in ("onboarding", "leave", "inactive"):
            return special.upper()
        roll = self.rng.random()
        if roll < 0.04:
            return "ONBOARDING"
        if roll < 0.09:
            return "LEAVE"
        if roll < 0.19:
            return "INACTIVE"
        return "ACTIVE"

    @staticmethod
    def _terminate(employment: Employment, rng: random.Random) -> None:
        last_day = REFERENCE_DAY - timedelta(days=rng.randint(1, 400))
        if last_day <= employment.employment_start_date:
            last_day = employment.employment_start_date + timedelta(days=30)
        employment.employment_end_date = last_day
        employment.termination = Termination(
            termination_date=last_day,
            last_working_day=last_day,
            terminated_at=last_day - timedelta(days=rng.choice((30, 60, 90))),
            type=rng.choice(("EMPLOYEE", "QUIT", "FIRED", "AGREEMENT", "CONTRACT_EXPIRED", "RETIREMENT")),
            reason=rng.choice(("", "Neue Herausforderung", "Umzug", "Ruhestand")),
        )

    @staticmethod
    def _earlier_employment(current: Employment, rng: random.Random) -> Employment:
        end = current.employment_start_date - timedelta(days=rng.randint(30, 700))
        start = end - timedelta(days=rng.randint(180, 1500))
        created = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
        earlier = current.model_copy(
            update={
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "status": "INACTIVE",
                "type": "EXTERNAL",
                "position": "Werkstudent" if current.position else None,
                "employment_start_date": start,
                "employment_end_date": end,
                "contract_end_date": end,
                "probation_end_date": None,
                "created_at": created,
                "updated_at": created + timedelta(days=1),
            },
            deep=True,
        )
        earlier.termination = Termination(
            termination_date=end, last_working_day=end, terminated_at=end, type="CONTRACT_EXPIRED", reason=""
        )
        return earlier


_SPECIAL_CASES = (
    "onboarding", "leave", "inactive", "external", "two_employments", "no_team", "no_office", "no_position",
    "non_latin",
)  # fmt: skip


def _special_case(index: int, total: int) -> str | None:
    """Guarantee one of each edge case at the end of any company of 24 or more people."""
    if total < 24:
        return None
    from_end = total - 1 - index
    return _SPECIAL_CASES[from_end] if from_end < len(_SPECIAL_CASES) else None
