"""Which Personio attributes a run reads, which of them the spec depends on, and so which user
attributes a run manages in the app.

Required attributes are always read. Optional ones are *needed* when a spec
setting uses them (job title, a team kind) and *wanted* when they only enrich users (the manager
link and the SCIM department): a needed attribute missing from the credential fails the run before
any write; a wanted one that is missing is simply not managed.

A user attribute is managed when the spec wants it, Personio returned what it is made from for
somebody, and the app holds it (``ScimDialect.user_fields``). One set, decided once per run; the
planner writes nothing else (see ``DesiredUser.managed``).
"""

from __future__ import annotations

from collections.abc import Iterable

from personio_operator.api.spec import PersonioIntegrationSpec, TeamKind
from personio_operator.personio.models import REQUIRED_ATTRIBUTES, Attribute
from personio_operator.scim.models import ALL_USER_FIELDS, IDENTITY_FIELDS, UserField

_TEAM_ATTRIBUTE: dict[TeamKind, Attribute] = {
    TeamKind.SUPERVISOR: Attribute.SUPERVISOR,
    TeamKind.TEAM: Attribute.TEAM,
    TeamKind.DEPARTMENT: Attribute.DEPARTMENT,
    TeamKind.OFFICE: Attribute.OFFICE,
    TeamKind.EMPLOYMENT_TYPE: Attribute.EMPLOYMENT_TYPE,
}

WANTED_ATTRIBUTES: frozenset[Attribute] = frozenset({Attribute.SUPERVISOR, Attribute.DEPARTMENT})

# Where each attribute is called in Personio's credential settings (for messages that say what to tick).
PERSONIO_LABELS: dict[Attribute, str] = {
    Attribute.FIRST_NAME: "First name",
    Attribute.LAST_NAME: "Last name",
    Attribute.EMAIL: "Email",
    Attribute.STATUS: "Status",
    Attribute.EMPLOYMENT_TYPE: "Employment type",
    Attribute.POSITION: "Position (job title)",
    Attribute.SUPERVISOR: "Supervisor",
    Attribute.TEAM: "Team",
    Attribute.DEPARTMENT: "Department",
    Attribute.OFFICE: "Office",
}

# The setting that makes an optional attribute necessary, for the error message.
_NEEDED_BY: dict[Attribute, str] = {
    Attribute.POSITION: "users.jobTitle",
    Attribute.SUPERVISOR: "teams.supervisor",
    Attribute.TEAM: "teams.team",
    Attribute.DEPARTMENT: "teams.department",
    Attribute.OFFICE: "teams.office",
}


def needed_attributes(spec: PersonioIntegrationSpec) -> frozenset[Attribute]:
    """Attributes without which this spec cannot run: the required ones plus those enabled settings use."""
    needed = set(REQUIRED_ATTRIBUTES)
    if spec.users.job_title:
        needed.add(Attribute.POSITION)
    needed.update(_TEAM_ATTRIBUTE[kind] for kind in spec.teams.enabled())
    return frozenset(needed)


def requested_attributes(spec: PersonioIntegrationSpec) -> frozenset[Attribute]:
    return needed_attributes(spec) | WANTED_ATTRIBUTES


def needed_by(attribute: Attribute) -> str:
    """The spec setting that needs ``attribute`` ("required" for the required attributes)."""
    if attribute in REQUIRED_ATTRIBUTES:
        return "required"
    return _NEEDED_BY.get(attribute, "optional")


# User attributes made from an optional Personio attribute: not managed when Personio returned it for nobody.
_MADE_FROM: dict[UserField, Attribute] = {
    UserField.TITLE: Attribute.POSITION,
    UserField.MANAGER: Attribute.SUPERVISOR,
    UserField.DEPARTMENT: Attribute.DEPARTMENT,
}


def wanted_user_fields(
    spec: PersonioIntegrationSpec, available: Iterable[Attribute] | None = None
) -> frozenset[UserField]:
    """The user attributes this spec syncs, given the Personio attributes returned (None: all of them)."""
    returned = set(Attribute) if available is None else set(available)
    wanted = set(ALL_USER_FIELDS)
    if not spec.users.job_title:
        wanted.discard(UserField.TITLE)
    wanted -= {field for field, attribute in _MADE_FROM.items() if attribute not in returned}
    return frozenset(wanted)


def managed_user_fields(
    spec: PersonioIntegrationSpec,
    available: Iterable[Attribute] | None = None,
    app: Iterable[UserField] = ALL_USER_FIELDS,
) -> frozenset[UserField]:
    """What a run writes of each user: what the spec wants, Personio returned and the app holds."""
    return (wanted_user_fields(spec, available) & frozenset(app)) | IDENTITY_FIELDS
