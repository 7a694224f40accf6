"""Employees + spec -> the desired state of the app in SCIM terms.

Bad HR data never reaches the app: a person without a usable e-mail, people sharing an e-mail, or
a person whose status cannot be read is *held* (no create, no change, never deactivated) and gets
a warning that says what to fix in Personio. An e-mail is usable when the payload layer would
accept it (``scim.emails``: one validator, one normal form, so ``müller@xn--bcher-kva.de`` and
``müller@bücher.de`` are one mailbox). Every text sent to the app is cleaned (``safe_text``: no
control or invisible characters, joiners kept) and cut to 256 characters, with a warning when a
name is cut; non-Latin names are kept as they are. Supervisor cycles are broken by leaving one
link empty. A Personio id that cannot serve as a key (``USABLE_ID``) holds its person or leaves
its team out. Warnings name people by id and name, cleaned and shortened (``describe``).

Supervisor teams hold the supervisor (when they have an active account) and their direct reports.
A team exists while at least one in-scope person belongs to it. Team names are distinct (ignoring
case): each team also gets qualified names (``DesiredBuild.team_names``) and ``sync.team_names``
picks one per team, here among Personio's teams and again in the run once the app's groups are
known. Held people keep their place: they stay members of their teams and the manager of their
reports (the planner leaves out those who have no account in the app), so a data problem in Personio
never strips anyone of anything.

What is managed of each user (``DesiredUser.managed``) is decided here, once: what the spec wants,
what Personio returned for somebody and what the app holds (``sync.attributes.managed_user_fields``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from personio_operator.api.spec import PersonioIntegrationSpec, TeamKind
from personio_operator.personio.models import Attribute, Employee, EmploymentType, NamedRef
from personio_operator.run_warnings import RunWarning, WarningKind, warning
from personio_operator.safe_text import MAX_TEXT_LENGTH, clean_text, shown
from personio_operator.scim.emails import InvalidEmailError, normalized_email
from personio_operator.scim.models import (
    ALL_USER_FIELDS,
    DesiredGroup,
    DesiredState,
    DesiredUser,
    TargetState,
    UserField,
    group_external_id,
    user_external_id,
)
from personio_operator.sync.attributes import managed_user_fields
from personio_operator.sync.naming import KIND_WORDS, qualified_name, team_name
from personio_operator.sync.scope import Decision, ScopeDecision, scope_of
from personio_operator.sync.team_names import TeamNaming, name_teams

USER_TYPES = {EmploymentType.INTERNAL: "Internal", EmploymentType.EXTERNAL: "External"}
# Personio ids become externalIds and employee numbers: digits in practice, never anything odd.
USABLE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LISTED_PEOPLE = 5  # people named in one warning; the rest are counted


@dataclass
class DesiredBuild:
    """The desired state (what the planner plans from) and the warnings found while making it."""

    state: DesiredState
    warnings: list[RunWarning] = field(default_factory=list)
    managed: frozenset[UserField] = ALL_USER_FIELDS  # what is written of each user
    team_names: dict[str, TeamNaming] = field(default_factory=dict)  # group externalId -> its names, best first

    @property
    def held(self) -> frozenset[str]:
        return self.state.held

    @property
    def inactive_reasons(self) -> dict[str, str]:
        return self.state.inactive_reasons


@dataclass
class _Person:
    employee: Employee
    external_id: str
    email: str | None  # in the normal form; None when missing or unusable
    email_problem: str | None  # why the e-mail in Personio is unusable
    decision: ScopeDecision


def build_desired(
    employees: Iterable[Employee],
    spec: PersonioIntegrationSpec,
    *,
    available: frozenset[Attribute] | set[Attribute] | None = None,
    app: Iterable[UserField] = ALL_USER_FIELDS,
) -> DesiredBuild:
    """``available``: attributes Personio returned for at least somebody (None = all of them);
    ``app``: the user attributes the app holds (``ScimDialect.user_fields``)."""
    managed = managed_user_fields(spec, available, app)
    warnings: list[RunWarning] = []
    people = _unique_people(employees, spec, warnings)
    _hold_unusable_emails(people, warnings)
    _hold_shared_emails(people, warnings)

    active = [p for p in people if p.decision.decision is Decision.ACTIVE]
    kept = [p for p in people if p.decision.decision is not Decision.INACTIVE]  # active or held
    by_id = {p.employee.id: p for p in people}
    managers = _manager_links(active, by_id, warnings) if UserField.MANAGER in managed else {}

    users = [_desired_user(p, spec, managers, managed, warnings) for p in active]
    groups, team_names = _desired_groups(kept, by_id, spec, warnings)
    groups, _ = name_teams(groups, team_names, TargetState())  # distinct among Personio's teams already
    state = DesiredState(
        users=sorted(users, key=lambda u: u.external_id),
        groups=groups,
        held=frozenset(p.external_id for p in people if p.decision.decision is Decision.HOLD),
        inactive_reasons={p.external_id: p.decision.reason for p in people if p.decision.decision is Decision.INACTIVE},
    )
    return DesiredBuild(state=state, warnings=warnings, managed=managed, team_names=team_names)


def describe(employee: Employee) -> str:
    """How a person is named in warnings: Personio id plus name, never more personal data."""
    name = " ".join(part for part in (employee.first_name, employee.last_name) if part)
    who = f"Person {shown(employee.id, 40)}"
    return f"{who} ({shown(name)})" if clean_text(name, None) else who


def describe_all(employees: Sequence[Employee]) -> str:
    """Several people for one warning line: the first few by name, the rest counted."""
    names = ", ".join(describe(employee) for employee in employees[:LISTED_PEOPLE])
    more = len(employees) - LISTED_PEOPLE
    return f"{names} and {more} more" if more > 0 else names


def _warn(warnings: list[RunWarning], kind: WarningKind, text: str) -> None:
    warnings.append(warning(kind, text))


def _unique_people(
    employees: Iterable[Employee], spec: PersonioIntegrationSpec, warnings: list[RunWarning]
) -> list[_Person]:
    seen: set[str] = set()
    people: list[_Person] = []
    for employee in employees:
        if employee.id in seen:
            _warn(
                warnings,
                WarningKind.DUPLICATE_RECORD,
                f"{describe(employee)} appears twice in Personio's answer; the first entry is used",
            )
            continue
        seen.add(employee.id)
        email, problem = _email_of(employee)
        decision = scope_of(employee, spec.rules)
        if not USABLE_ID.fullmatch(employee.id):
            decision = ScopeDecision(Decision.HOLD, "the Personio id cannot be used as a key")
            _warn(
                warnings,
                WarningKind.INVALID_ID,
                f"{describe(employee)}: Personio sent an id that is not 1-64 letters, digits, '.', '_' or '-'; "
                "this person is skipped (an existing account is left unchanged). Report this to Personio support",
            )
        elif decision.decision is Decision.HOLD:
            _warn(warnings, WarningKind.HELD_PERSON, f"{describe(employee)}: {decision.reason}")
        people.append(_Person(employee, user_external_id(employee.id), email, problem, decision))
    return people


def _email_of(employee: Employee) -> tuple[str | None, str | None]:
    """The e-mail in its normal form, or None and why it cannot be used (None: there is none)."""
    if employee.email is None or not employee.email.strip():
        return None, None
    try:
        return normalized_email(employee.email), None
    except InvalidEmailError as error:
        return None, str(error)


def _hold(person: _Person, reason: str) -> None:
    person.decision = ScopeDecision(Decision.HOLD, reason)


def _hold_unusable_emails(people: list[_Person], warnings: list[RunWarning]) -> None:
    for person in people:
        if person.decision.decision is not Decision.ACTIVE or person.email is not None:
            continue
        if person.email_problem is None:
            _hold(person, "no e-mail in Personio")
            _warn(
                warnings,
                WarningKind.MISSING_EMAIL,
                f"{describe(person.employee)} has no e-mail in Personio and is skipped; add a work e-mail "
                "in Personio to sync them (an existing account is left unchanged)",
            )
        else:
            _hold(person, "e-mail in Personio is not a valid address")
            _warn(
                warnings,
                WarningKind.INVALID_EMAIL,
                f"{describe(person.employee)} has the e-mail {shown(person.employee.email)!r} in Personio, which is "
                f"not a valid address ({shown(person.email_problem, 160)}); they are skipped until it is fixed in "
                "Personio (an existing account is left unchanged)",
            )


def _hold_shared_emails(people: list[_Person], warnings: list[RunWarning]) -> None:
    """People who would get an account (or are held) and share an e-mail: nobody gets it, we never guess.

    Someone inactive does not compete for the address, so a rehire under a new Personio id keeps it.
    Addresses are compared in their normal form (case and IDNA spelling of the domain do not count).
    """
    by_email: dict[str, list[_Person]] = defaultdict(list)
    for person in people:
        if person.email is not None and person.decision.decision is not Decision.INACTIVE:
            by_email[person.email].append(person)
    for email, sharing in sorted(by_email.items()):
        if len(sharing) < 2:
            continue
        _warn(
            warnings,
            WarningKind.DUPLICATE_EMAIL,
            f"{describe_all([p.employee for p in sharing])} share the e-mail {shown(email)} in Personio (compared "
            "ignoring case and the spelling of the domain); all of them are skipped until each has their own address "
            "(existing accounts are left unchanged)",
        )
        for person in sharing:
            _hold(person, f"shares the e-mail {shown(email)} with another person")


def clean_name(value: str | None, what: str, employee: Employee, warnings: list[RunWarning]) -> str:
    text = clean_text(value, None)
    if len(text) > MAX_TEXT_LENGTH:
        _warn(
            warnings,
            WarningKind.NAME_TRUNCATED,
            f"{describe(employee)}: the {what} is {len(text)} characters long and was cut to {MAX_TEXT_LENGTH}",
        )
        text = clean_text(text, MAX_TEXT_LENGTH)
    return text


def _desired_user(
    person: _Person,
    spec: PersonioIntegrationSpec,
    managers: dict[str, str | None],
    managed: frozenset[UserField],
    warnings: list[RunWarning],
) -> DesiredUser:
    employee = person.employee
    assert person.email is not None  # people without a usable e-mail are held before this point
    given = clean_name(employee.first_name, "first name", employee, warnings)
    family = clean_name(employee.last_name, "last name", employee, warnings)
    if not given or not family:
        missing = "first name" if not given else "last name"
        _warn(
            warnings,
            WarningKind.MISSING_NAME,
            f"{describe(employee)} has no {missing} in Personio; it stays empty in the app",
        )
    title = None
    if UserField.TITLE in managed and employee.position:
        title = clean_name(employee.position, "job title", employee, warnings) or None
    department = None
    if UserField.DEPARTMENT in managed and employee.department is not None:
        department = clean_text(employee.department.name) or None
    return DesiredUser(
        external_id=person.external_id,
        user_name=person.email,
        given_name=given,
        family_name=family,
        email=person.email,
        active=True,
        title=title,
        user_type=USER_TYPES.get(employee.employment_type) if employee.employment_type else None,
        preferred_language=spec.default_language.value,
        employee_number=employee.id,
        department=department,
        manager_external_id=managers.get(employee.id),
        managed=managed,
    )


def _manager_links(
    active: list[_Person], by_id: dict[str, _Person], warnings: list[RunWarning]
) -> dict[str, str | None]:
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
            _warn(
                warnings,
                WarningKind.SUPERVISOR_CYCLE,
                f"{describe(person.employee)} is their own supervisor in Personio; no manager is set",
            )
        elif supervisor.id in linkable_ids:
            links[person.employee.id] = supervisor.id
        else:
            unsynced[supervisor.id].append(person.employee)
    for supervisor_id, reports in sorted(unsynced.items()):
        supervisor = by_id.get(supervisor_id)
        why = supervisor.decision.reason if supervisor is not None else "not in Personio's answer"
        who = describe(supervisor.employee) if supervisor is not None else f"Person {shown(supervisor_id, 40)}"
        _warn(
            warnings,
            WarningKind.UNSYNCED_SUPERVISOR,
            f"Supervisor {who} has no active account ({why}); the manager link of {len(reports)} "
            f"{'person' if len(reports) == 1 else 'people'} is left empty: {describe_all(reports)}",
        )
    for cycle in _cycles(links):
        breaker = min(cycle, key=_id_order)
        del links[breaker]
        chain = " -> ".join(describe(by_id[pid].employee) for pid in cycle[:LISTED_PEOPLE])
        if len(cycle) > LISTED_PEOPLE:
            chain += f" -> ... ({len(cycle)} people)"
        _warn(
            warnings,
            WarningKind.SUPERVISOR_CYCLE,
            f"Supervisors form a cycle in Personio ({chain}); the manager link of "
            f"{describe(by_id[breaker].employee)} is left empty until the cycle is fixed",
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
    members_pool: list[_Person], by_id: dict[str, _Person], spec: PersonioIntegrationSpec, warnings: list[RunWarning]
) -> tuple[list[DesiredGroup], dict[str, TeamNaming]]:
    groups: list[DesiredGroup] = []
    namings: dict[str, TeamNaming] = {}
    for kind in spec.teams.enabled():
        members: dict[str, set[str]] = defaultdict(set)
        labels: dict[str, Counter[str]] = defaultdict(Counter)
        unusable: set[str] = set()
        for person in members_pool:
            for source_id, label in _memberships(kind, person, by_id):
                if not USABLE_ID.fullmatch(source_id):
                    unusable.add(source_id)
                    continue
                members[source_id].add(person.external_id)
                if label:
                    labels[source_id][label] += 1
        for source_id in sorted(unusable):
            _warn(
                warnings,
                WarningKind.INVALID_ID,
                f"Personio sent the {kind.value} id {shown(source_id, 40)!r}, which is not 1-64 letters, digits, "
                "'.', '_' or '-'; no team is made for it. Report this to Personio support",
            )
        if kind is TeamKind.SUPERVISOR:
            for supervisor_id in members:
                supervisor = by_id.get(supervisor_id)
                if supervisor is not None and supervisor.decision.decision is not Decision.INACTIVE:
                    members[supervisor_id].add(supervisor.external_id)
        for source_id, member_ids in members.items():
            label = _pick_label(kind, source_id, labels[source_id], warnings)
            external_id = group_external_id(kind.value, source_id)
            plain = team_name(kind, label, spec.default_language, spec.teams.name_templates)
            supervisor = by_id.get(source_id) if kind is TeamKind.SUPERVISOR else None
            namings[external_id] = _naming(kind, source_id, plain, supervisor, spec)
            groups.append(
                DesiredGroup(external_id=external_id, display_name=plain, member_external_ids=frozenset(member_ids))
            )
    groups.sort(key=lambda g: g.external_id)
    _warn_same_names(groups, namings, warnings)
    return groups, namings


def _naming(
    kind: TeamKind, source_id: str, plain: str, supervisor: _Person | None, spec: PersonioIntegrationSpec
) -> TeamNaming:
    """The team's names, best first: plain; the supervisor's e-mail or the kind; the kind and the id."""
    word = KIND_WORDS[spec.default_language][kind]
    names = [plain]
    if supervisor is not None and supervisor.email is not None:
        names.append(qualified_name(plain, supervisor.email))
    elif kind is not TeamKind.SUPERVISOR:
        names.append(qualified_name(plain, word))
    names.append(qualified_name(plain, f"{word} {source_id}"))
    rank = (list(TeamKind).index(kind), *_id_order(source_id))
    return TeamNaming(names=tuple(dict.fromkeys(names)), rank=rank, described=f"{kind.value} {source_id}")


def _memberships(kind: TeamKind, person: _Person, by_id: dict[str, _Person]) -> list[tuple[str, str | None]]:
    """(source id, the name the team is named after) for each team of this kind the person belongs to."""
    employee = person.employee
    if kind is TeamKind.SUPERVISOR:
        ref = employee.supervisor
        if ref is None or ref.id == employee.id:
            return []
        record = by_id.get(ref.id)
        first = record.employee.first_name if record and clean_text(record.employee.first_name) else ref.first_name
        last = record.employee.last_name if record and clean_text(record.employee.last_name) else ref.last_name
        name = " ".join(text for text in (clean_text(first), clean_text(last)) if text)
        return [(ref.id, name or None)]
    if kind is TeamKind.EMPLOYMENT_TYPE:
        if employee.employment_type in USER_TYPES:
            return [(employee.employment_type.value, employee.employment_type.value)]
        return []
    unit: NamedRef | None = getattr(employee, kind.value)
    if unit is None:
        return []
    return [(unit.id, clean_text(unit.name) or None)]


def _pick_label(kind: TeamKind, source_id: str, labels: Counter[str], warnings: list[RunWarning]) -> str:
    if not labels:
        _warn(
            warnings,
            WarningKind.TEAM_NAME_MISSING,
            f"The {kind.value} with Personio id {source_id} has no name in Personio's answer; "
            "its team is named after the id until a name is returned",
        )
        return source_id
    ranked = sorted(labels.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) > 1:
        shown_names = ", ".join(repr(shown(label)) for label, _ in ranked[:LISTED_PEOPLE])
        _warn(
            warnings,
            WarningKind.TEAM_NAME_VARIES,
            f"The {kind.value} with Personio id {source_id} is named differently across people ({shown_names}); "
            f"the most common name {shown(ranked[0][0])!r} is used",
        )
    return ranked[0][0]


def _warn_same_names(groups: list[DesiredGroup], namings: dict[str, TeamNaming], warnings: list[RunWarning]) -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for group in groups:
        by_name[group.display_name.casefold()].append(group.external_id)
    for ids in by_name.values():
        if len(ids) > 1:
            ids.sort(key=lambda external_id: namings[external_id].rank)
            more = len(ids) - LISTED_PEOPLE
            listed = ", ".join(namings[i].described for i in ids[:LISTED_PEOPLE]) + (
                f" and {more} more" if more > 0 else ""
            )
            _warn(
                warnings,
                WarningKind.TEAM_NAME_CLASH,
                f"Teams {listed} would all be named {shown(namings[ids[0]].plain)!r}; apps need distinct names, so "
                f"all but one get a qualifier (such as {shown(namings[ids[1]].names[1])!r}; the rule is in the "
                "README under teams). Rename one in Personio or adjust teams.nameTemplates to choose the names",
            )
