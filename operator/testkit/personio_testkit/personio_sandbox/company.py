"""The live company behind a sandbox: indexed records plus the change knobs tests turn.

Every knob takes the company lock, so a test thread can change data while the server thread
serves it; handlers read under the same lock. Knobs raise ``ValueError`` for unknown ids or
inputs Personio would refuse (a duplicate e-mail), saying what to fix.
"""

from __future__ import annotations

import bisect
import threading
import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from personio_testkit.personio_sandbox.clock import SandboxClock
from personio_testkit.personio_sandbox.models import (
    CompanyData,
    Employment,
    EmploymentStatusName,
    EmploymentTypeName,
    GenderName,
    LegalEntity,
    OrgUnit,
    Person,
    Termination,
    TerminationTypeName,
    Workplace,
)


class Company:
    """A Personio tenant's people, org units and workplaces, safe to change while being served."""

    def __init__(self, data: CompanyData, *, clock: SandboxClock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or SandboxClock()
        self.name = data.name
        self.departments: dict[int, OrgUnit] = _index(data.departments, "department")
        self.teams: dict[int, OrgUnit] = _index(data.teams, "team")
        self.workplaces: dict[int, Workplace] = _index(data.workplaces, "workplace")
        self.legal_entities: dict[int, LegalEntity] = _index(data.legal_entities, "legal entity")
        self._persons: dict[int, Person] = _index(data.persons, "person")
        self._sorted_ids: list[int] = sorted(self._persons)
        self._emails: dict[str, int] = {}
        for person in self._persons.values():
            if person.email:
                self._claim_email(person.email, person.id)
        self._check_references()

    # ----- reading -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._persons)

    def __repr__(self) -> str:
        return f"Company(name={self.name!r}, persons={len(self._persons)}, departments={len(self.departments)})"

    def person(self, person_id: int | str) -> Person:
        try:
            return self._persons[int(person_id)]
        except (KeyError, ValueError):
            raise ValueError(f"No person with id {person_id!r} in the sandbox company.") from None

    def find_person(self, person_id: int | str) -> Person | None:
        try:
            return self._persons.get(int(person_id))
        except ValueError:
            return None

    def persons(self) -> list[Person]:
        """All persons ordered by id (a new list; the records themselves are live)."""
        with self.lock:
            return [self._persons[i] for i in self._sorted_ids]

    def persons_after(self, person_id: int | None) -> list[Person]:
        """Persons with an id greater than ``person_id`` in id order (all when None)."""
        with self.lock:
            start = 0 if person_id is None else bisect.bisect_right(self._sorted_ids, person_id)
            return [self._persons[i] for i in self._sorted_ids[start:]]

    def person_by_email(self, email: str) -> Person | None:
        with self.lock:
            person_id = self._emails.get(email.casefold())
            return None if person_id is None else self._persons[person_id]

    def to_data(self) -> CompanyData:
        """A deep copy of the company as fixture data (e.g. to write a fixture file)."""
        with self.lock:
            return CompanyData(
                name=self.name,
                departments=list(self.departments.values()),
                teams=list(self.teams.values()),
                workplaces=list(self.workplaces.values()),
                legal_entities=list(self.legal_entities.values()),
                persons=self.persons(),
            ).model_copy(deep=True)

    # ----- change knobs: people ----------------------------------------------------------------------

    def hire(
        self,
        *,
        first_name: str,
        last_name: str,
        email: str,
        department_id: int | None = None,
        team_id: int | None = None,
        office_id: int | None = None,
        supervisor_id: int | None = None,
        position: str | None = None,
        employment_type: EmploymentTypeName = "INTERNAL",
        status: EmploymentStatusName = "ACTIVE",
        preferred_name: str | None = None,
        gender: GenderName = "UNSPECIFIED",
        start_date: date | None = None,
    ) -> int:
        """Add a person with one employment; returns the new person id."""
        with self.lock:
            now = self.clock.now()
            person_id = (self._sorted_ids[-1] + 1) if self._sorted_ids else 1
            employment = Employment(
                id=str(uuid.uuid4()),
                status=status,
                type=employment_type,
                position=position,
                supervisor_id=supervisor_id,
                department_id=department_id,
                team_id=team_id,
                office_id=office_id,
                employment_start_date=start_date or now.date(),
                created_at=now,
                updated_at=now,
            )
            person = Person(
                id=person_id,
                first_name=first_name,
                last_name=last_name,
                preferred_name=preferred_name,
                email=email,
                gender=gender,
                created_at=now,
                updated_at=now,
                employments=[employment],
            )
            self._check_employment_refs(person_id, employment)
            self._claim_email(email, person_id)
            self._persons[person_id] = person
            self._sorted_ids.append(person_id)
            return person_id

    def terminate(
        self,
        person_id: int,
        *,
        termination_type: TerminationTypeName = "EMPLOYEE",
        reason: str = "",
        last_working_day: date | None = None,
    ) -> None:
        """End the current employment: status INACTIVE with termination fields."""
        with self.lock:
            person = self.person(person_id)
            now = self.clock.now()
            last_day = last_working_day or now.date()
            employment = person.current
            employment.status = "INACTIVE"
            employment.employment_end_date = last_day
            employment.termination = Termination(
                termination_date=last_day,
                last_working_day=last_day,
                terminated_at=min(now.date(), last_day - timedelta(days=30)),
                type=termination_type,
                reason=reason,
            )
            self._touch_employment(person, employment, "status", "termination_date", "termination_type")

    def rehire(self, person_id: int, *, start_date: date | None = None) -> str:
        """Give an inactive person a new ACTIVE employment (keeping the org assignments); returns its id."""
        with self.lock:
            person = self.person(person_id)
            if person.status == "ACTIVE":
                raise ValueError(f"Person {person_id} is still active; terminate them before rehiring.")
            now = self.clock.now()
            previous = person.current
            employment = previous.model_copy(
                update={
                    "id": str(uuid.uuid4()),
                    "status": "ACTIVE",
                    "employment_start_date": start_date or now.date(),
                    "employment_end_date": None,
                    "contract_end_date": None,
                    "termination": None,
                    "created_at": now,
                    "updated_at": now,
                },
                deep=True,
            )
            person.employments.insert(0, employment)
            self._touch_employment(person, employment, "status", "hire_date")
            return employment.id

    def set_status(self, person_id: int, status: EmploymentStatusName) -> None:
        """Set the current employment's status (e.g. LEAVE, ONBOARDING) without terminating."""
        with self.lock:
            person = self.person(person_id)
            person.current.status = status
            self._touch_employment(person, person.current, "status")

    def remove(self, person_id: int) -> None:
        """Delete a person entirely (they disappear from every endpoint)."""
        with self.lock:
            person = self.person(person_id)
            del self._persons[person.id]
            self._sorted_ids.remove(person.id)
            if person.email:
                self._emails.pop(person.email.casefold(), None)

    def move_department(self, person_id: int, department_id: int | None) -> None:
        self._set_employment_field(person_id, "department_id", department_id, "department")

    def move_team(self, person_id: int, team_id: int | None) -> None:
        self._set_employment_field(person_id, "team_id", team_id, "team")

    def move_office(self, person_id: int, office_id: int | None) -> None:
        self._set_employment_field(person_id, "office_id", office_id, "office")

    def change_supervisor(self, person_id: int, supervisor_id: int | None) -> None:
        if supervisor_id is not None and int(supervisor_id) == int(person_id):
            raise ValueError(f"Person {person_id} cannot supervise themselves.")
        self._set_employment_field(person_id, "supervisor_id", supervisor_id, "supervisor")

    def change_position(self, person_id: int, position: str | None) -> None:
        self._set_employment_field(person_id, "position", position, "position")

    def change_employment_type(self, person_id: int, employment_type: EmploymentTypeName) -> None:
        self._set_employment_field(person_id, "type", employment_type.upper(), "employment_type")

    def change_email(self, person_id: int, new_email: str | None) -> None:
        with self.lock:
            person = self.person(person_id)
            if person.email and new_email and person.email.casefold() == new_email.casefold():
                person.email = new_email
            else:
                if new_email:
                    self._claim_email(new_email, person.id)
                if person.email:
                    self._emails.pop(person.email.casefold(), None)
                person.email = new_email
            self._touch_person(person, "email")

    def change_name(
        self,
        person_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        preferred_name: str | None = None,
    ) -> None:
        """Change the given name parts (None leaves a part unchanged)."""
        with self.lock:
            person = self.person(person_id)
            changed = []
            for key, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("preferred_name", preferred_name),
            ):
                if value is not None:
                    setattr(person, key, value)
                    changed.append(key)
            self._touch_person(person, *changed)

    # ----- change knobs: org units and workplaces ----------------------------------------------------

    def add_department(self, name: str, *, parent_id: int | None = None, abbreviation: str | None = None) -> int:
        with self.lock:
            if parent_id is not None and parent_id not in self.departments:
                raise ValueError(f"No department with id {parent_id} to be the parent of {name!r}.")
            unit_id = self._next_unit_id()
            self.departments[unit_id] = OrgUnit(id=unit_id, name=name, parent_id=parent_id, abbreviation=abbreviation)
            return unit_id

    def add_team(self, name: str, *, abbreviation: str | None = None) -> int:
        with self.lock:
            unit_id = self._next_unit_id()
            self.teams[unit_id] = OrgUnit(id=unit_id, name=name, abbreviation=abbreviation)
            return unit_id

    def add_workplace(self, name: str) -> int:
        with self.lock:
            workplace_id = max(self.workplaces, default=0) + 1
            self.workplaces[workplace_id] = Workplace(id=workplace_id, name=name)
            return workplace_id

    def rename_department(self, department_id: int, new_name: str) -> None:
        self._rename(self.departments, "department", department_id, new_name, "department")

    def rename_team(self, team_id: int, new_name: str) -> None:
        self._rename(self.teams, "team", team_id, new_name, "team")

    def rename_workplace(self, workplace_id: int, new_name: str) -> None:
        self._rename(self.workplaces, "workplace", workplace_id, new_name, "office")

    # ----- internals ---------------------------------------------------------------------------------

    def _rename(self, table: dict, kind: str, unit_id: int, new_name: str, v1_key: str) -> None:
        with self.lock:
            if unit_id not in table:
                raise ValueError(f"No {kind} with id {unit_id} in the sandbox company.")
            table[unit_id].name = new_name
            # A rename shows up in v1 as a changed attribute of every member; v2 persons do not move.
            now = self.clock.now()
            field = {"department": "department_id", "team": "team_id", "office": "office_id"}[v1_key]
            for person in self._persons.values():
                if getattr(person.current, field) == unit_id:
                    person.changed_at[v1_key] = now

    def _set_employment_field(self, person_id: int, field: str, value: object, v1_key: str) -> None:
        with self.lock:
            person = self.person(person_id)
            employment = person.current.model_copy(update={field: value})
            self._check_employment_refs(person.id, employment)
            setattr(person.current, field, value)
            self._touch_employment(person, person.current, v1_key)

    def _touch_person(self, person: Person, *v1_keys: str) -> None:
        now = self.clock.now()
        person.updated_at = now
        for key in v1_keys:
            person.changed_at[key] = now

    def _touch_employment(self, person: Person, employment: Employment, *v1_keys: str) -> None:
        # Only the employment's updated_at moves: Personio's person.updated_at does not follow
        # employment changes (a known trap for incremental v2 syncs).
        now = self.clock.now()
        employment.updated_at = now
        for key in v1_keys:
            person.changed_at[key] = now

    def _claim_email(self, email: str, person_id: int) -> None:
        key = email.casefold()
        owner = self._emails.get(key)
        if owner is not None and owner != person_id:
            raise ValueError(f"E-mail {email!r} already belongs to person {owner}; Personio e-mails are unique.")
        self._emails[key] = person_id

    def _next_unit_id(self) -> int:
        return max([*self.departments, *self.teams], default=0) + 1

    def _check_employment_refs(self, person_id: int, employment: Employment) -> None:
        checks = (
            (employment.department_id, self.departments, "department"),
            (employment.team_id, self.teams, "team"),
            (employment.office_id, self.workplaces, "workplace"),
            (employment.legal_entity_id, self.legal_entities, "legal entity"),
        )
        for ref, table, kind in checks:
            if ref is not None and ref not in table:
                raise ValueError(f"Person {person_id} refers to {kind} {ref}, which does not exist.")
        if employment.supervisor_id is not None and employment.supervisor_id not in self._persons:
            raise ValueError(f"Person {person_id} refers to supervisor {employment.supervisor_id}, who does not exist.")

    def _check_references(self) -> None:
        for department in self.departments.values():
            if department.parent_id is not None and department.parent_id not in self.departments:
                raise ValueError(f"Department {department.id} has parent {department.parent_id}, which does not exist.")
        overlap = set(self.departments) & set(self.teams)
        if overlap:
            raise ValueError(f"Org unit ids must be unique across departments and teams; both use {sorted(overlap)}.")
        for person in self._persons.values():
            for employment in person.employments:
                self._check_employment_refs(person.id, employment)


def _index(records: Iterable, kind: str) -> dict:
    table: dict = {}
    for record in records:
        if record.id in table:
            raise ValueError(f"Two {kind} records share the id {record.id}; ids must be unique.")
        table[record.id] = record
    return table
