import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from personio_operator.api.spec import Language, TeamKind, TeamNameTemplates
from personio_operator.safe_text import clean_text
from personio_operator.sync.naming import MAX_NAME_LENGTH, team_name

DEFAULT = TeamNameTemplates()


@pytest.mark.parametrize(
    ("kind", "name", "language", "expected"),
    [
        (TeamKind.DEPARTMENT, "IT", Language.DE, "Abteilung IT"),
        (TeamKind.DEPARTMENT, "Vertrieb", Language.DE, "Abteilung Vertrieb"),
        (TeamKind.DEPARTMENT, "IT", Language.EN, "Department IT"),
        (TeamKind.TEAM, "Backend", Language.DE, "Team Backend"),
        (TeamKind.TEAM, "Backend", Language.EN, "Team Backend"),
        (TeamKind.OFFICE, "Berlin", Language.DE, "Büro Berlin"),
        (TeamKind.OFFICE, "Berlin", Language.EN, "Office Berlin"),
        (TeamKind.SUPERVISOR, "Peter Wright", Language.DE, "Peter Wrights Team"),
        (TeamKind.SUPERVISOR, "Peter Wright", Language.EN, "Peter Wright's Team"),
        (TeamKind.SUPERVISOR, "Hans Weiss", Language.DE, "Hans Weiss' Team"),
        (TeamKind.SUPERVISOR, "Max Strauß", Language.DE, "Max Strauß' Team"),
        (TeamKind.SUPERVISOR, "Felix", Language.DE, "Felix' Team"),
        (TeamKind.SUPERVISOR, "Heinz", Language.DE, "Heinz' Team"),
        (TeamKind.SUPERVISOR, "James Jones", Language.EN, "James Jones' Team"),
        (TeamKind.SUPERVISOR, "Max Fox", Language.EN, "Max Fox's Team"),
        (TeamKind.SUPERVISOR, "山田 太郎", Language.DE, "山田 太郎s Team"),
        (TeamKind.EMPLOYMENT_TYPE, "internal", Language.DE, "Interne Mitarbeitende"),
        (TeamKind.EMPLOYMENT_TYPE, "external", Language.DE, "Externe Mitarbeitende"),
        (TeamKind.EMPLOYMENT_TYPE, "internal", Language.EN, "Internal employees"),
        (TeamKind.EMPLOYMENT_TYPE, "external", Language.EN, "External employees"),
    ],
)
def test_default_names(kind, name, language, expected) -> None:
    assert team_name(kind, name, language, DEFAULT) == expected


def test_templates_override_the_defaults_per_kind() -> None:
    templates = TeamNameTemplates(
        department="Dept. {name}", supervisor="Team of {name}", employment_type="{name} staff"
    )
    assert team_name(TeamKind.DEPARTMENT, "IT", Language.DE, templates) == "Dept. IT"
    assert team_name(TeamKind.SUPERVISOR, "Peter Wright", Language.DE, templates) == "Team of Peter Wright"
    assert team_name(TeamKind.EMPLOYMENT_TYPE, "external", Language.EN, templates) == "External staff"
    assert team_name(TeamKind.OFFICE, "Berlin", Language.DE, templates) == "Büro Berlin"


def test_braces_in_names_or_templates_are_not_format_fields() -> None:
    templates = TeamNameTemplates(team="{team} {name} {0}")
    assert team_name(TeamKind.TEAM, "{name}", Language.EN, templates) == "{team} {name} {0}"


@pytest.mark.parametrize("field", ["supervisor", "team", "department", "office", "employmentType"])
def test_template_without_placeholder_is_refused_with_the_field_path(field: str) -> None:
    """The spec model is the one check: every kind's template must say where the name goes."""
    with pytest.raises(ValidationError, match=rf"{field}[\s\S]*must contain \{{name\}}"):
        TeamNameTemplates.model_validate({field: "Staff"})
    assert getattr(TeamNameTemplates.model_validate({field: "Dept {name}"}), _snake(field)) == "Dept {name}"


def _snake(field: str) -> str:
    return "employment_type" if field == "employmentType" else field


@given(st.text(min_size=1, max_size=600).filter(clean_text), st.sampled_from(list(TeamKind)), st.sampled_from(Language))
def test_names_are_bounded_and_keep_the_source_name(name, kind, language) -> None:
    rendered = team_name(kind, name, language, DEFAULT)
    assert 0 < len(rendered) <= MAX_NAME_LENGTH
    assert clean_text(rendered) == rendered
    if kind is not TeamKind.EMPLOYMENT_TYPE and len(name) < 200:
        assert clean_text(name) in rendered
