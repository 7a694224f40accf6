"""What an app should hold after a complete run, worked out from the sandbox company alone.

The oracle is written from the README's promises, not from the product's code: people in scope
(active, onboarding or on leave; internal) have an active account named by their e-mail; everyone
else with an account has it deactivated; teams have the people in scope whose record points at
them (a supervisor team also holds the supervisor while in scope). Which attributes are checked
depends on the app's ``Dialect`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from personio_testkit.personio_sandbox import Company
from tests.apps.reading import ENTERPRISE_SCHEMA, Dialect, Holdings

IN_SCOPE_STATUSES = frozenset({"ACTIVE", "ONBOARDING", "LEAVE"})
TEAM_FIELDS = {"department": "department_id", "team": "team_id", "office": "office_id", "supervisor": "supervisor_id"}


@dataclass(frozen=True)
class Rules:
    """The parts of the spec the oracle needs."""

    teams: frozenset[str] = frozenset({"department", "supervisor"})
    job_title: bool = True
    language: str = "de"

    def spec(self) -> dict[str, Any]:
        return {
            "teams": {kind: True for kind in self.teams},
            "users": {"jobTitle": self.job_title},
            "defaultLanguage": self.language,
        }


@dataclass
class Expected:
    """The app as a complete run leaves it."""

    active: dict[str, Any]  # person id -> sandbox Person, in scope
    departments: dict[str, str | None]  # person id -> department name, for those in scope
    teams: dict[str, set[str]]  # group externalId -> member person ids
    team_names: dict[str, str]  # group externalId -> a name its displayName must contain
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, company: Company, rules: Rules) -> Expected:
        persons = {str(p.id): p for p in company.persons()}
        active = {
            pid: p
            for pid, p in persons.items()
            if p.current.status in IN_SCOPE_STATUSES and p.current.type == "INTERNAL" and p.email
        }
        teams: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for kind in sorted(rules.teams):
            for pid, person in active.items():
                source = getattr(person.current, TEAM_FIELDS[kind])
                if source is None:
                    continue
                key = f"personio:{kind}:{source}"
                teams.setdefault(key, set()).add(pid)
                names[key] = _source_name(company, kind, source)
                if kind == "supervisor" and str(source) in active:
                    teams[key].add(str(source))
        departments = {
            pid: company.departments[p.current.department_id].name if p.current.department_id else None
            for pid, p in active.items()
        }
        return cls(active=active, departments=departments, teams=teams, team_names=names)

    def check(self, app: Holdings, dialect: Dialect, rules: Rules) -> list[str]:
        """Every difference between the app and this expectation, described (empty: the app is right)."""
        problems: list[str] = []
        users = app.managed_users()
        by_app_id = {user["id"]: pid for pid, user in users.items()}
        for pid, person in sorted(self.active.items()):
            user = users.get(pid)
            if user is None:
                problems.append(f"person {pid} ({person.email}) has no account")
                continue
            found = _user_problems(user, person, dialect, rules, users, self.active)
            enterprise = user.get(ENTERPRISE_SCHEMA) or {}
            if dialect.holds_enterprise("department") and enterprise.get("department") != self.departments[pid]:
                found.append(f"department {enterprise.get('department')!r}, expected {self.departments[pid]!r}")
            problems += [f"person {pid}: {problem}" for problem in found]
        for pid, user in sorted(users.items()):
            if pid not in self.active and user.get("active") is not False:
                problems.append(f"person {pid} is out of scope but their account {user['userName']} is active")
        groups = app.managed_groups()
        for key, members in sorted(self.teams.items()):
            group = groups.get(key)
            if group is None:
                problems.append(f"team {key} ({self.team_names[key]}) is missing")
                continue
            if self.team_names[key] not in str(group.get("displayName")):
                problems.append(f"team {key} is named {group.get('displayName')!r}, without {self.team_names[key]!r}")
            held = {by_app_id[m] for m in app.member_ids(group) if m in by_app_id}
            if held != members:
                missing, extra = sorted(members - held), sorted(held - members)
                problems.append(f"team {key}: members missing {missing}, members not in Personio's team {extra}")
        for key in sorted(set(groups) - set(self.teams)):
            problems.append(f"group {key} ({groups[key].get('displayName')!r}) should not exist")
        return problems


def _source_name(company: Company, kind: str, source: int) -> str:
    if kind == "department":
        return company.departments[source].name
    if kind == "team":
        return company.teams[source].name
    if kind == "office":
        return company.workplaces[source].name
    supervisor = company.person(source)
    return f"{supervisor.first_name} {supervisor.last_name}"


def _user_problems(
    user: dict[str, Any],
    person: Any,
    dialect: Dialect,
    rules: Rules,
    users: dict[str, dict[str, Any]],
    active: dict[str, Any],
) -> list[str]:
    problems = []
    if str(user.get("userName", "")).casefold() != person.email.casefold():
        problems.append(f"userName {user.get('userName')!r}, expected {person.email!r}")
    if user.get("active") is not True:
        problems.append(f"account is not active ({user.get('active')!r})")
    name = user.get("name") or {}
    if dialect.holds_user("name") and (name.get("givenName"), name.get("familyName")) != (
        person.first_name,
        person.last_name,
    ):
        problems.append(f"name {name!r}, expected {person.first_name!r} {person.last_name!r}")
    emails = [str(email.get("value", "")).casefold() for email in user.get("emails") or []]
    if dialect.holds_user("emails") and person.email.casefold() not in emails:
        problems.append(f"e-mails {emails}, expected {person.email!r} among them")
    if rules.job_title and dialect.holds_user("title") and user.get("title") != person.current.position:
        problems.append(f"title {user.get('title')!r}, expected {person.current.position!r}")
    enterprise = user.get(ENTERPRISE_SCHEMA) or {}
    if dialect.holds_enterprise("employeeNumber") and enterprise.get("employeeNumber") != str(person.id):
        problems.append(f"employeeNumber {enterprise.get('employeeNumber')!r}, expected {person.id!r}")
    if dialect.holds_enterprise("manager"):
        supervisor = str(person.current.supervisor_id) if person.current.supervisor_id else None
        wanted = users[supervisor]["id"] if supervisor in active and supervisor in users else None
        held = (enterprise.get("manager") or {}).get("value")
        if supervisor in active and held != wanted:
            problems.append(f"manager {held!r}, expected the account of person {supervisor} ({wanted!r})")
        if supervisor is None and held:
            problems.append(f"manager {held!r}, expected none")
    return problems
