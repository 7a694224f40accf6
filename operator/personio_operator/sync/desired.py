"""Employees + spec -> the desired state of the app in SCIM terms.

Bad HR data never reaches the app: a person without a usable e-mail, people sharing an e-mail, or
a person whose status cannot be read is *held* (no create, no change, never deactivated) and gets
a warning that says what to fix in Personio. Names are trimmed and cut to 256 characters;
non-Latin names are kept as they are. Supervisor cycles are broken by leaving one link empty.

Supervisor teams hold the supervisor (when they have an active account) and their direct reports.
A team exists while at least one in-scope person belongs to it. Held people keep their place: they
stay members of their teams and the manager of their reports (the runner drops those who have no
account in the app), so a data problem in Personio never strips anyone of anything.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from personio_operator.api.spec import PersonioIntegrationSpec, TeamKind
from personio_operator.personio.models import Attribute, Employee, EmploymentType, NamedRef
from personio_operator.sync.naming import MAX_NAME_LENGTH, check_templates, team_name
from personio_operator.sync.scope import Decision, ScopeDecision, decide
from personio_operator.target.models import (
    DesiredGroup,
    DesiredState,
    DesiredUser,
    group_external_id,
    user_external_id,
)

USER_TYPES = {EmploymentType.INTERNAL: "Internal", EmploymentType.EXTERNAL: "External"}


@dataclass
class DesiredBuild:
    """The desired state plus what the planner cannot know on its own."""

    state: DesiredState
    warnings: list[str] = field(default_factory=list)
    held: frozenset[str] = frozenset()  # user externalIds whose accounts must be left exactly as they are
    inactive_reasons: dict[str, str] = field(default_factory=dict)  # externalId -> why it gets no active account
    manages_manager: bool = True  # False when Personio returned no supervisor for anybody
    manages_department: bool = True  # False when Personio returned no department for anybody


@dataclass
class _Person:
    employee: Employee
    external_id: str
    email: str | None
    decision: ScopeDecision


def build_desired(
    employees: Iterable[Employee],
    spec: PersonioIntegrationSpec,
    *,
    available: frozenset[Attribute] | set[Attribute] | None = None,
) -> DesiredBuild:
    """``available``: attributes Personio returned for at least somebody (None = all of them)."""
    check_templates(spec.teams.name_templates)
    available_attributes = set(Attribute) if available is None else set(available)
    warnings: list[str] = []
    people = _unique_people(employees, spec, warnings)
    _hold_unusable_emails(people, warnings)
    _hold_shared_emails(people, warnings)

    active = [p for p in people if p.decision.decision is Decision.ACTIVE]
    kept = [p for p in people if p.decision.decision is not Decision.INACTIVE]  # active or held
    by_id = {p.employee.id: p for p in people}
    manages_manager = Attribute.SUPERVISOR in available_attributes
    manages_department = Attribute.DEPARTMENT in available_attributes
    managers = _manager_links(active, by_id, warnings) if manages_manager else {}

    users = [_desired_user(p, spec, managers, manages_department, warnings) for p in active]
    groups = _desired_groups(kept, by_id, spec, warnings)
    return DesiredBuild(
        state=DesiredState(users=sorted(users, key=lambda u: u.external_id), groups=groups),
        warnings=warnings,
        held=frozenset(p.external_id for p in people if p.decision.decision is Decision.HOLD),
        inactive_reasons={p.external_id: p.decision.reason for p in people if p.decision.decision is Decision.INACTIVE},
        manages_manager=manages_manager,
        manages_department=manages_department,
    )


def describe(employee: Employee) -> str:
    """How a person is named in warnings: Personio id plus name, never more personal data."""
    name = " ".join(part for part in (employee.first_name, employee.last_name) if part)
    return f"Person {employee.id} ({name})" if name else f"Person {employee.id}"


def _unique_people(employees: Iterable[Employee], spec: PersonioIntegrationSpec, warnings: list[str]) -> list[_Person]:
    seen: set[str] = set()
    people: list[_Person] = []
    for employee in employees:
        if employee.id in seen:
            warnings.append(f"{describe(employee)} appears twice in Personio's answer; the first entry is used")
            continue
        seen.add(employee.id)
        email = normalize_email(employee.email)
        people.append(_Person(employee, user_external_id(employee.id), email, decide(employee, spec.rules)))
    for person in people:
        if person.decision.decision is Decision.HOLD:
            warnings.append(f"{describe(person.employee)}: {person.decision.reason}")
    return people


def normalize_email(email: str | None) -> str | None:
    """Trimmed and lower-cased (apps compare user names case-insensitively); None when empty."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def is_usable_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(at and local and domain) and "@" not in domain and not any(ch.isspace() for ch in email)


def _hold(person: _Person, reason: str) -> None:
    person.decision = ScopeDecision(Decision.HOLD, reason)


def _hold_unusable_emails(people: list[_Person], warnings: list[str]) -> None:
    for person in people:
        if person.decision.decision is not Decision.ACTIVE:
            continue
        if person.email is None:
            _hold(person, "no e-mail in Personio")
            warnings.append(
                f"{describe(person.employee)} has no e-mail in Personio and is skipped; add a work e-mail "
                "in Personio to sync them (an existing account is left unchanged)"
            )
        elif not is_usable_email(person.email):
            _hold(person, "e-mail in Personio is not a valid address")
            warnings.append(
                f"{describe(person.employee)} has the e-mail {person.employee.email!r} in Personio, which is not "
                "a valid address; they are skipped until it is fixed (an existing account is left unchanged)"
            )


def _hold_shared_emails(people: list[_Person], warnings: list[str]) -> None:
    """People who would get an account (or are held) and share an e-mail: nobody gets it, we never guess.

    Someone inactive does not compete for the address, so a rehire under a new Personio id keeps it.
    """
    by_email: dict[str, list[_Person]] = defaultdict(list)
    for person in people:
        if person.email is not None and person.decision.decision is not Decision.INACTIVE:
            by_email[person.email].append(person)
    for email, sharing in sorted(by_email.items()):
        if len(sharing) < 2:
            continue
        names = ", ".join(describe(p.employee) for p in sharing)
        warnings.append(
            f"{names} share the e-mail {email} in Personio (compared ignoring case); all of them are skipped "
            "until each has their own address (existing accounts are left unchanged)"
        )
        for person in sharing:
            _hold(person, f"shares the e-mail {email} with another person")


def clean_name(value: str | None, what: str, employee: Employee, warnings: list[str]) -> str:
    if value is None:
        return ""
    text = "".join(ch for ch in unicodedata.normalize("NFC", value) if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if len(text) > MAX_NAME_LENGTH:
        warnings.append(
            f"{describe(employee)}: the {what} is {len(text)} characters long and was cut to {MAX_NAME_LENGTH}"
        )
        text = text[:MAX_NAME_LENGTH].rstrip()
    return text


def _desired_user(
    person: _Person,
    spec: PersonioIntegrationSpec,
    managers: dict[str, str | None],
    manages_department: bool,
    warnings: list[str],
) -> DesiredUser:
    employee = person.employee
    assert person.email is not None  # people without a usable e-mail are held before this point
    given = clean_name(employee.first_name, "first name", employee, warnings)
    family = clean_name(employee.last_name, "last name", employee, warnings)
    if not given or not family:
        missing = "first name" if not given else "last name"
        warnings.append(f"{describe(employee)} has no {missing} in Personio; it stays empty in the app")
    title = None
    if spec.users.job_title and employee.position:
        title = clean_name(employee.position, "job title", employee, warnings) or None
    department = None
    if manages_department and employee.department is not None:
        department = employee.department.name
    return DesiredUser(
        external_id=person.external_id,
        user_name=person.email,
        given_name=given,
        family_name=family,
        email=person.email,
        active=True,
        title=title,
        manage_title=spec.users.job_title,
        user_type=USER_TYPES.get(employee.employment_type) if employee.employment_type else None,
        preferred_language=spec.default_language.value,
        employee_number=employee.id,
        department=department,
        manager_external_id=managers.get(employee.id),
    )


def _manager_links(active: list[_Person], by_id: dict[str, _Person], warnings: list[str]) -> dict[str, str | None]:
    """Person id -> their manager's externalId (None: no link). Supervisors without an account and
    cycles leave links empty, with a warning each. A held supervisor stays a link target."""
    active_ids = {p.employee.id for p in active}
    linkable_ids = active_ids | {pid for pid, p in by_id.items() if p.decision.decision is Decision.HOLD}
    links: dict[str, str] = {}
    unsynced: dict[str, list[Employee]] = defaultdict(list)
    for person in active:
        supervisor = person.employee.supervisor
        if supervisor is None:
            continue
        if supervisor.id == person.employee.id:
            warnings.append(f"{describe(person.employee)} is their own supervisor in Personio; no manager is set")
        elif supervisor.id in linkable_ids:
            links[person.employee.id] = supervisor.id
        else:
            unsynced[supervisor.id].append(person.employee)
    for supervisor_id, reports in sorted(unsynced.items()):
        supervisor = by_id.get(supervisor_id)
        why = supervisor.decision.reason if supervisor is not None else "not in Personio's answer"
        who = describe(supervisor.employee) if supervisor is not None else f"Person {supervisor_id}"
        names = ", ".join(describe(e) for e in reports)
        warnings.append(
            f"Supervisor {who} has no active account ({why}); the manager link of {len(reports)} "
            f"{'person' if len(reports) == 1 else 'people'} is left empty: {names}"
        )
    for cycle in _cycles(links):
        breaker = min(cycle, key=_id_order)
        del links[breaker]
        chain = " -> ".join(describe(by_id[pid].employee) for pid in cycle)
        warnings.append(
            f"Supervisors form a cycle in Personio ({chain}); the manager link of "
            f"{describe(by_id[breaker].employee)} is left empty until the cycle is fixed"
        )
    return {pid: user_external_id(sid) for pid, sid in links.items()}


def _id_order(person_id: str) -> tuple[int, str]:
    return (len(person_id), person_id)  # numeric ids in numeric order, others stably


def _cycles(links: dict[str, str]) -> list[list[str]]:
    """Cycles of a graph where every node has at most one outgoing edge, each from its smallest id."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(links, key=_id_order):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = links.get(node)
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            first = cycle.index(min(cycle, key=_id_order))
            cycles.append(cycle[first:] + cycle[:first])
        for visited in path:
            state[visited] = 2
    return cycles


def _desired_groups(
    members_pool: list[_Person], by_id: dict[str, _Person], spec: PersonioIntegrationSpec, warnings: list[str]
) -> list[DesiredGroup]:
    groups: list[DesiredGroup] = []
    for kind in spec.teams.enabled():
        members: dict[str, set[str]] = defaultdict(set)
        labels: dict[str, Counter[str]] = defaultdict(Counter)
        for person in members_pool:
            for source_id, label in _memberships(kind, person, by_id):
                members[source_id].add(person.external_id)
                if label:
                    labels[source_id][label] += 1
        if kind is TeamKind.SUPERVISOR:
            for supervisor_id in members:
                supervisor = by_id.get(supervisor_id)
                if supervisor is not None and supervisor.decision.decision is not Decision.INACTIVE:
                    members[supervisor_id].add(supervisor.external_id)
        for source_id, member_ids in members.items():
            label = _pick_label(kind, source_id, labels[source_id], warnings)
            groups.append(
                DesiredGroup(
                    external_id=group_external_id(kind.value, source_id),
                    display_name=team_name(kind, label, spec.default_language, spec.teams.name_templates),
                    member_external_ids=frozenset(member_ids),
                )
            )
    groups.sort(key=lambda g: g.external_id)
    _warn_same_names(groups, warnings)
    return groups


def _memberships(kind: TeamKind, person: _Person, by_id: dict[str, _Person]) -> list[tuple[str, str | None]]:
    employee = person.employee
    if kind is TeamKind.SUPERVISOR:
        ref = employee.supervisor
        if ref is None or ref.id == employee.id:
            return []
        record = by_id.get(ref.id)
        first = record.employee.first_name if record and record.employee.first_name else ref.first_name
        last = record.employee.last_name if record and record.employee.last_name else ref.last_name
        name = " ".join(part.strip() for part in (first, last) if part and part.strip())
        return [(ref.id, name or None)]
    if kind is TeamKind.EMPLOYMENT_TYPE:
        if employee.employment_type in USER_TYPES:
            return [(employee.employment_type.value, employee.employment_type.value)]
        return []
    unit: NamedRef | None = getattr(employee, kind.value)
    if unit is None:
        return []
    return [(unit.id, unit.name.strip() if unit.name and unit.name.strip() else None)]


def _pick_label(kind: TeamKind, source_id: str, labels: Counter[str], warnings: list[str]) -> str:
    if not labels:
        warnings.append(
            f"The {kind.value} with Personio id {source_id} has no name in Personio's answer; "
            f"its team is named after the id until a name is returned"
        )
        return source_id
    ranked = sorted(labels.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) > 1:
        shown = ", ".join(repr(label) for label, _ in ranked)
        warnings.append(
            f"The {kind.value} with Personio id {source_id} is named differently across people ({shown}); "
            f"the most common name {ranked[0][0]!r} is used"
        )
    return ranked[0][0]


def _warn_same_names(groups: list[DesiredGroup], warnings: list[str]) -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for group in groups:
        by_name[group.display_name.casefold()].append(group.external_id)
    for ids in by_name.values():
        if len(ids) > 1:
            names = {g.display_name for g in groups if g.external_id in ids}
            warnings.append(
                f"Teams {', '.join(ids)} would all be named {sorted(names)[0]!r}; they stay separate teams "
                "(keyed by Personio id) but look alike in the app: rename one of them in Personio or adjust "
                "teams.nameTemplates"
            )
