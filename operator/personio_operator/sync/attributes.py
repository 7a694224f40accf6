"""Which Personio attributes a run reads, and which of them the spec depends on.

Required attributes (the seed's list) are always read. Optional ones are *needed* when a spec
setting uses them (job title, a team kind) and *wanted* when they only enrich users (the manager
link and the SCIM department): a needed attribute missing from the credential fails the run before
any write; a wanted one that is missing is simply not managed.
"""

from __future__ import annotations

from personio_operator.api.spec import PersonioIntegrationSpec, TeamKind
from personio_operator.personio.models import REQUIRED_ATTRIBUTES, Attribute

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
    """The spec setting that needs ``attribute`` ("required" for the seed's required attributes)."""
    if attribute in REQUIRED_ATTRIBUTES:
        return "required"
    return _NEEDED_BY.get(attribute, "optional")
