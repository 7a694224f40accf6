"""Team names in the integration's default language, overridable per kind with ``{name}`` templates.

Defaults (German / English): "Abteilung IT" / "Department IT", "Team Backend" / "Team Backend",
"Büro Berlin" / "Office Berlin", "Peter Wrights Team" / "Peter Wright's Team",
"Interne Mitarbeitende" / "Internal employees".

Names and templates are cleaned like every text sent to the app (``safe_text.clean_text``: no
control or invisible characters, joiners kept) and the team name is cut to 256 characters.

When two teams would get the same name, ``sync.team_names`` tells them apart with a qualifier in
parentheses (``qualified_name``): the supervisor's e-mail, the kind ("IT (department)"), or the
kind and the Personio id ("IT (department 12)").
"""

from __future__ import annotations

from collections.abc import Callable

from personio_operator.api.spec import Language, TeamKind, TeamNameTemplates
from personio_operator.safe_text import MAX_TEXT_LENGTH, clean_text

PLACEHOLDER = "{name}"
MAX_NAME_LENGTH = MAX_TEXT_LENGTH

_DEFAULT_TEMPLATES: dict[Language, dict[TeamKind, str]] = {
    Language.DE: {
        TeamKind.TEAM: "Team {name}",
        TeamKind.DEPARTMENT: "Abteilung {name}",
        TeamKind.OFFICE: "Büro {name}",
        TeamKind.EMPLOYMENT_TYPE: "{name} Mitarbeitende",
    },
    Language.EN: {
        TeamKind.TEAM: "Team {name}",
        TeamKind.DEPARTMENT: "Department {name}",
        TeamKind.OFFICE: "Office {name}",
        TeamKind.EMPLOYMENT_TYPE: "{name} employees",
    },
}

# What ``{name}`` stands for in employment-type teams (source ids "internal" / "external").
EMPLOYMENT_TYPE_LABELS: dict[Language, dict[str, str]] = {
    Language.DE: {"internal": "Interne", "external": "Externe"},
    Language.EN: {"internal": "Internal", "external": "External"},
}

# The kind of a team as a qualifier of its name, when two teams would otherwise look alike.
KIND_WORDS: dict[Language, dict[TeamKind, str]] = {
    Language.DE: {
        TeamKind.SUPERVISOR: "Führungskraft",
        TeamKind.TEAM: "Team",
        TeamKind.DEPARTMENT: "Abteilung",
        TeamKind.OFFICE: "Büro",
        TeamKind.EMPLOYMENT_TYPE: "Beschäftigungsart",
    },
    Language.EN: {
        TeamKind.SUPERVISOR: "supervisor",
        TeamKind.TEAM: "team",
        TeamKind.DEPARTMENT: "department",
        TeamKind.OFFICE: "office",
        TeamKind.EMPLOYMENT_TYPE: "employment type",
    },
}
MAX_QUALIFIER_LENGTH = 120

_TEMPLATE_FIELD = {
    TeamKind.SUPERVISOR: "supervisor",
    TeamKind.TEAM: "team",
    TeamKind.DEPARTMENT: "department",
    TeamKind.OFFICE: "office",
    TeamKind.EMPLOYMENT_TYPE: "employment_type",
}


def _german_supervisor_team(name: str) -> str:
    # German genitive has no apostrophe ("Peter Wrights Team") unless the name already ends in a hissing sound.
    if name[-1:].lower() in {"s", "ß", "x", "z"}:
        return f"{name}' Team"
    return f"{name}s Team"


def _english_supervisor_team(name: str) -> str:
    if name[-1:].lower() == "s":
        return f"{name}' Team"
    return f"{name}'s Team"


_SUPERVISOR_DEFAULTS: dict[Language, Callable[[str], str]] = {
    Language.DE: _german_supervisor_team,
    Language.EN: _english_supervisor_team,
}


def team_name(kind: TeamKind, name: str, language: Language, templates: TeamNameTemplates) -> str:
    """The display name of the team for ``name`` (an org unit's name or the supervisor's full name)."""
    label = clean_text(name, None)
    if kind is TeamKind.EMPLOYMENT_TYPE:
        label = EMPLOYMENT_TYPE_LABELS[language].get(label, label)
    template = getattr(templates, _TEMPLATE_FIELD[kind])
    if template is not None:
        rendered = template.replace(PLACEHOLDER, label)
    elif kind is TeamKind.SUPERVISOR:
        rendered = _SUPERVISOR_DEFAULTS[language](label)
    else:
        rendered = _DEFAULT_TEMPLATES[language][kind].replace(PLACEHOLDER, label)
    return clean_text(rendered, MAX_NAME_LENGTH)


def qualified_name(name: str, qualifier: str) -> str:
    """``name (qualifier)``, cut to the team-name limit by shortening the name, never the qualifier."""
    suffix = f" ({clean_text(qualifier, MAX_QUALIFIER_LENGTH)})"
    return clean_text(name, MAX_NAME_LENGTH - len(suffix)) + suffix
