"""Spec of the PersonioIntegration custom resource (design.md: "The custom resource").

These models are the single source of truth: the CRD in ``crds/`` is generated from them by
``personio-operator crd``; the CLI reads integration YAML through them; the operator validates
the object it is given with them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from personio_operator.api.rules import (
    THRESHOLD_PATTERN,
    TIME_ZONE_PATTERN,
    check_cron,
    check_time_zone,
    cron_rule,
    threshold_rule,
)


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Language(StrEnum):
    DE = "de"
    EN = "en"


class ApiVersion(StrEnum):
    V2 = "v2"
    V1 = "v1"


class LeavePolicy(StrEnum):
    ACTIVE = "Active"  # people on leave keep an active account (default)
    DEACTIVATE = "Deactivate"


_PERCENT_OR_COUNT = re.compile(THRESHOLD_PATTERN)


def _check_threshold(value: str | int) -> str:
    text = str(value).strip()
    if not _PERCENT_OR_COUNT.match(text):
        raise ValueError(f"maxDeactivations must be a count such as 25 or a percentage such as '10%', got {value!r}")
    return text


Threshold = Annotated[str | int, AfterValidator(_check_threshold)]
Schedule = Annotated[str, AfterValidator(check_cron)]
TimeZone = Annotated[str, AfterValidator(check_time_zone)]


class SecretKeyRef(_Model):
    """A key in a Secret in the integration's own namespace."""

    name: str = Field(min_length=1, max_length=253, description="Name of the Secret.")
    key: str = Field(default="token", min_length=1, description="Key inside the Secret.")


class PersonioCredentialsRef(_Model):
    name: str = Field(min_length=1, max_length=253, description="Name of the Secret with the API credentials.")
    client_id_key: str = Field(default="clientId", min_length=1, description="Key holding the client id.")
    client_secret_key: str = Field(default="clientSecret", min_length=1, description="Key holding the client secret.")


class PersonioSource(_Model):
    credentials_secret_ref: PersonioCredentialsRef = Field(
        description="Secret with the Personio API credentials (Settings > Integrations > API credentials)."
    )
    base_url: str = Field(
        default="https://api.personio.de",
        pattern=r"^https?://",
        description="Personio API host (without /v1 or /v2); override for a sandbox or proxy.",
    )
    api_version: ApiVersion = Field(default=ApiVersion.V2, description="Personio API version to read.")
    app_id: str = Field(default="PERSONIO_OPERATOR", description="Sent as X-Personio-App-ID (UPPER_SNAKE_CASE).")
    partner_id: str | None = Field(default=None, description="Sent as X-Personio-Partner-ID when set.")


class ScimTargetSpec(_Model):
    url: str = Field(pattern=r"^https?://", description="SCIM 2.0 base URL, e.g. https://app.example.com/scim/v2")
    credentials_secret_ref: SecretKeyRef = Field(description="Secret key holding the bearer token.")
    max_concurrency: int = Field(default=4, ge=1, le=32, description="Parallel write requests to the app.")


class Target(_Model):
    scim: ScimTargetSpec


class Rules(_Model):
    include_external: bool = Field(
        default=False, description="Also sync external staff; internal employees are always synced."
    )
    on_leave: LeavePolicy = Field(
        default=LeavePolicy.ACTIVE,
        description="What people on leave get: an Active or a deactivated account.",
    )


class Users(_Model):
    job_title: bool = Field(default=True, description="Sync the Personio position to the SCIM title.")


class TeamKind(StrEnum):
    SUPERVISOR = "supervisor"
    TEAM = "team"
    DEPARTMENT = "department"
    OFFICE = "office"
    EMPLOYMENT_TYPE = "employmentType"


class TeamNameTemplates(_Model):
    """Override team names; ``{name}`` is the department/team/office/employment type or the
    supervisor's full name. Defaults depend on defaultLanguage."""

    supervisor: str | None = Field(default=None, description='e.g. "{name}\'s Team"')
    team: str | None = Field(default=None, description="e.g. 'Team {name}'")
    department: str | None = Field(default=None, description="e.g. 'Department {name}'")
    office: str | None = Field(default=None, description="e.g. 'Office {name}'")
    employment_type: str | None = Field(default=None, description="e.g. '{name} employees'")


class Teams(_Model):
    supervisor: bool = Field(default=False, description="One team per supervisor with their direct reports.")
    team: bool = Field(default=False, description="One team per Personio team.")
    department: bool = Field(default=False, description="One team per Personio department.")
    office: bool = Field(default=False, description="One team per office (workplace).")
    employment_type: bool = Field(default=False, description="One team per employment type.")
    name_templates: TeamNameTemplates = Field(default_factory=TeamNameTemplates)

    def enabled(self) -> list[TeamKind]:
        return [kind for kind in TeamKind if getattr(self, _TEAM_FIELD[kind])]


_TEAM_FIELD = {
    TeamKind.SUPERVISOR: "supervisor",
    TeamKind.TEAM: "team",
    TeamKind.DEPARTMENT: "department",
    TeamKind.OFFICE: "office",
    TeamKind.EMPLOYMENT_TYPE: "employment_type",
}


class Safety(_Model):
    max_deactivations: Threshold = Field(
        default="10%",
        description="Most deactivations one run may make, as a count ('25') or a share of managed users ('10%').",
        json_schema_extra={"x-kubernetes-int-or-string": True, "x-kubernetes-validations": [threshold_rule()]},
    )


class Notifications(_Model):
    emails: list[str] = Field(default_factory=list, description="Who is e-mailed when a run fails.")


class PersonioIntegrationSpec(_Model):
    active: bool = Field(default=True, description="false stops all runs; switching it on runs at once.")
    schedule: Schedule = Field(
        default="0 4 * * *",
        max_length=100,
        description="Cron expression for automatic runs (minute hour day-of-month month day-of-week).",
        json_schema_extra={"x-kubernetes-validations": [cron_rule()]},
    )
    time_zone: TimeZone = Field(
        default="UTC", max_length=64, pattern=TIME_ZONE_PATTERN, description="IANA time zone of the schedule."
    )
    personio: PersonioSource
    target: Target
    default_language: Language = Field(
        default=Language.DE,
        description="Language of e-mails to created users (SCIM preferredLanguage) and of team names.",
    )
    rules: Rules = Field(default_factory=Rules)
    users: Users = Field(default_factory=Users)
    teams: Teams = Field(default_factory=Teams)
    safety: Safety = Field(default_factory=Safety)
    notifications: Notifications = Field(default_factory=Notifications)
    history_limit: int = Field(default=10, ge=1, le=100, description="Runs kept in status.history.")
