"""What both API versions read a person into, and how a run's records become a :class:`FetchResult`.

Each version's parser fills a :class:`PersonRecord` and notes which attributes the response carried
(``present``): an attribute is *missing* when its key is absent from every record, which is how
Personio's credential whitelist shows itself (a null value only means "not set for this person").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from personio_operator.personio.models import (
    Attribute,
    Employee,
    EmploymentStatus,
    EmploymentType,
    FetchResult,
    NamedRef,
    PersonRef,
)
from personio_operator.run_warnings import RunWarning, WarningKind, warning

_STATUSES = {s.value: s for s in EmploymentStatus if s is not EmploymentStatus.UNKNOWN}
_TYPES = {t.value: t for t in EmploymentType if t is not EmploymentType.UNKNOWN}


@dataclass
class PersonRecord:
    id: str
    present: set[Attribute] = field(default_factory=set)
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


@dataclass
class Collected:
    """Records of one run in the order read, duplicates (same id on several pages) collapsed."""

    records: dict[str, PersonRecord] = field(default_factory=dict)
    duplicates_collapsed: int = 0
    warnings: list[RunWarning] = field(default_factory=list)
    _as_listed: dict[str, PersonRecord] = field(default_factory=dict, repr=False)

    def add(self, record: PersonRecord) -> bool:
        """Keep the first record of each id; returns False for a duplicate."""
        if record.id in self.records:
            self.duplicates_collapsed += 1
            if self._as_listed[record.id] != record:
                self.warn(
                    f"person {record.id} was returned twice with different data; the first copy was kept",
                    WarningKind.DUPLICATE_RECORD,
                )
            return False
        self.records[record.id] = record
        # The kept record is completed later (v2 employments); duplicates compare with it as first listed.
        self._as_listed[record.id] = replace(record, present=set(record.present))
        return True

    def warn(self, message: str, kind: WarningKind = WarningKind.PERSONIO_ANSWER) -> None:
        if all(existing.text != message for existing in self.warnings):
            self.warnings.append(warning(kind, message))


def text(value: object) -> str | None:
    """A non-empty string, or None (Personio sends "" and sometimes [] or {} for "not set")."""
    if value is None or isinstance(value, list | dict):
        return None
    result = str(value).strip()
    return result or None


def identifier(value: object) -> str | None:
    """Ids arrive as ints, floats or strings depending on version and quirks; 501, "501" and 501.0 agree."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = text(value)
    if result is not None and result.endswith(".0") and result[:-2].isdigit():
        result = result[:-2]
    return result


def employment_status(value: object) -> EmploymentStatus | None:
    raw = text(value)
    if raw is None:
        return None
    return _STATUSES.get(raw.lower(), EmploymentStatus.UNKNOWN)


def employment_type(value: object) -> EmploymentType | None:
    raw = text(value)
    if raw is None:
        return None
    return _TYPES.get(raw.lower(), EmploymentType.UNKNOWN)


def build_result(
    api_version: str,
    collected: Collected,
    attributes: Iterable[Attribute],
    *,
    pages_read: int,
    all_pages_read: bool,
    org_names: Mapping[tuple[str, str], str | None] | None = None,
    office_names: Mapping[str, str | None] | None = None,
) -> FetchResult:
    """Resolve names and supervisors, drop attributes that were not asked for, report what is missing."""
    wanted = set(attributes)
    records = list(collected.records.values())
    missing = sorted((a for a in wanted if records and not any(a in r.present for r in records)), key=lambda a: a.value)
    if not records:
        collected.warn("Personio returned no people; check that the API credentials may read employees")
    people = collected.records
    employees = [_employee(r, wanted, people, collected, org_names or {}, office_names or {}) for r in records]
    return FetchResult(
        api_version=api_version,
        employees=employees,
        pages_read=pages_read,
        all_pages_read=all_pages_read,
        missing_attributes=missing,
        duplicates_collapsed=collected.duplicates_collapsed,
        warnings=list(collected.warnings),
    )


def _employee(
    record: PersonRecord,
    wanted: set[Attribute],
    people: Mapping[str, PersonRecord],
    collected: Collected,
    org_names: Mapping[tuple[str, str], str | None],
    office_names: Mapping[str, str | None],
) -> Employee:
    supervisor = record.supervisor
    if supervisor is not None:
        boss = people.get(supervisor.id)
        if boss is not None:
            supervisor = PersonRef(id=boss.id, first_name=boss.first_name, last_name=boss.last_name)
        elif Attribute.SUPERVISOR in wanted:
            collected.warn(
                f"person {record.id}'s supervisor {supervisor.id} is not among the people read",
                WarningKind.UNSYNCED_SUPERVISOR,
            )
    department = _named(record.department, lambda ref: org_names.get(("department", ref.id)))
    team = _named(record.team, lambda ref: org_names.get(("team", ref.id)))
    office = _named(record.office, lambda ref: office_names.get(ref.id))
    for kind, ref in (("department", department), ("team", team), ("office", office)):
        if ref is not None and ref.name is None and Attribute(kind) in wanted:
            collected.warn(
                f"Personio has no name for {kind} {ref.id} (used by person {record.id})", WarningKind.TEAM_NAME_MISSING
            )
    chosen = replace(record, supervisor=supervisor, department=department, team=team, office=office)
    values = {a: getattr(chosen, a.value) if a in wanted else None for a in Attribute}
    return Employee(id=record.id, preferred_name=record.preferred_name, **{a.value: v for a, v in values.items()})


def _named(ref: NamedRef | None, lookup: Callable[[NamedRef], str | None]) -> NamedRef | None:
    if ref is None or ref.name is not None:
        return ref
    return NamedRef(id=ref.id, name=lookup(ref))
