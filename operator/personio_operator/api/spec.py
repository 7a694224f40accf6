"""Spec of the PersonioIntegration custom resource.

These models are the single source of truth: the CRD in ``crds/`` is generated from them by
``personio-operator crd``; the CLI reads integration YAML through them; the operator validates
the object it is given with them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictInt

from personio_operator.api.rules import (
    DNS_SUBDOMAIN_PATTERN,
    EMAIL_PATTERN,
    HEADER_TOKEN_PATTERN,
    HTTP_URL_PATTERN,
    SECRET_KEY_PATTERN,
    TEMPLATE_PATTERN,
    THRESHOLD_PATTERN,
    TIME_ZONE_PATTERN,
    check_cron,
    check_time_zone,
    cron_rule,
    threshold_rule,
)
from personio_operator.api.run import CamelModel

# Bounds keep a spec small enough for kopf's annotations and the API server (every field is tenant input).
MAX_URL_LENGTH = 512
MAX_TEMPLATE_LENGTH = 200
MAX_NOTIFICATION_EMAILS = 20
MAX_EMAIL_LENGTH = 254
MAX_THRESHOLD_LENGTH = 8
MAX_HISTORY_LIMIT = 100  # runs kept in status.history (its maxItems)


class SpecModel(CamelModel):
    """Tenant input: a field we do not know is refused, not ignored (a typo must not pass unseen)."""

    model_config = ConfigDict(extra="forbid")


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
    text = str(value)  # as the API server sees it: " 10%" is not "10%"
    if (isinstance(value, str) and len(value) > MAX_THRESHOLD_LENGTH) or not _PERCENT_OR_COUNT.fullmatch(text):
        raise ValueError(
            f"maxDeactivations must be a count such as 25 or a percentage such as '10%', got {str(value)[:20]!r}"
        )
    return text


def _check_email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as err:
        raise ValueError(f"{value!r} is not a usable e-mail address: {err}") from None
    return value


def _must_match(pattern: str, rule: str) -> Any:
    """A check with a message that says what to fix; the CRD gets the same pattern (see the fields)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            shown = repr(value) if len(value) <= 80 else repr(value[:80]) + "..."
            raise ValueError(f"{rule}; got {shown}")
        return value

    return AfterValidator(check)


def _check_template(value: str) -> str:
    if "{name}" not in value:
        raise ValueError(
            f"a team name template must contain {{name}} (e.g. 'Department {{name}}'), otherwise all these teams "
            f"would get the same name; got {value[:80]!r}"
        )
    return value


Threshold = Annotated[StrictInt | str, AfterValidator(_check_threshold)]
CronExpression = Annotated[str, AfterValidator(check_cron)]
TimeZone = Annotated[str, AfterValidator(check_time_zone)]
NotificationEmail = Annotated[
    str,
    Field(min_length=3, max_length=MAX_EMAIL_LENGTH, json_schema_extra={"pattern": EMAIL_PATTERN}),
    _must_match(EMAIL_PATTERN, "a notification address must be a plain e-mail address such as owner@example.com"),
    AfterValidator(_check_email),
]
SecretName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        json_schema_extra={"pattern": DNS_SUBDOMAIN_PATTERN},
        description="Name of a Secret in the integration's own namespace (lower-case letters, digits, '-', '.').",
    ),
    _must_match(
        DNS_SUBDOMAIN_PATTERN,
        "a Secret name is the name of a Secret in the integration's own namespace: lower-case letters, digits, "
        "'-' and '.', starting and ending with a letter or digit",
    ),
]
SecretKey = Annotated[
    str,
    Field(min_length=1, max_length=253, json_schema_extra={"pattern": SECRET_KEY_PATTERN}),
    _must_match(SECRET_KEY_PATTERN, "a Secret key consists of letters, digits, '-', '_' and '.'"),
]
HttpUrl = Annotated[
    str,
    Field(max_length=MAX_URL_LENGTH, json_schema_extra={"pattern": HTTP_URL_PATTERN}),
    _must_match(
        HTTP_URL_PATTERN,
        "a URL must be http(s)://host[:port][/path], without user:password@, query (?) or fragment (#)",
    ),
]
HeaderToken = Annotated[
    str,
    Field(max_length=64, json_schema_extra={"pattern": HEADER_TOKEN_PATTERN}),
    _must_match(HEADER_TOKEN_PATTERN, "use UPPER_SNAKE_CASE letters, digits and '_', e.g. MY_COMPANY_SYNC"),
]
Template = Annotated[
    str,
    Field(max_length=MAX_TEMPLATE_LENGTH, json_schema_extra={"pattern": TEMPLATE_PATTERN}),
    _must_match(r"^[^\x00-\x1f\x7f]*$", "a team name template cannot contain control characters"),
    AfterValidator(_check_template),
]


class SecretKeyRef(SpecModel):
    """A key in a Secret in the integration's own namespace."""

    name: SecretName
    key: SecretKey = Field(default="token", description="Key inside the Secret.")


class PersonioCredentialsRef(SpecModel):
    """A Secret in the integration's own namespace with the Personio API credentials."""

    name: SecretName
    client_id_key: SecretKey = Field(default="clientId", description="Key holding the client id.")
    client_secret_key: SecretKey = Field(default="clientSecret", description="Key holding the client secret.")


class PersonioSource(SpecModel):
    credentials_secret_ref: PersonioCredentialsRef = Field(
        description="Secret with the Personio API credentials (Settings > Integrations > API credentials)."
    )
    base_url: HttpUrl = Field(
        default="https://api.personio.de",
        description="Personio API host (without /v1 or /v2); override for a sandbox or proxy the operator's "
        "admin allows.",
    )
    api_version: ApiVersion = Field(default=ApiVersion.V2, description="Personio API version to read.")
    app_id: HeaderToken = Field(
        default="PERSONIO_OPERATOR",
        description="Sent as X-Personio-App-ID (UPPER_SNAKE_CASE).",
    )
    partner_id: HeaderToken | None = Field(
        default=None,
        description="Sent as X-Personio-Partner-ID when set (UPPER_SNAKE_CASE).",
    )


class ScimTargetSpec(SpecModel):
    url: HttpUrl = Field(
        description="SCIM 2.0 base URL, e.g. https://app.example.com/scim/v2 (no user:password@, query or fragment).",
    )
    credentials_secret_ref: SecretKeyRef = Field(description="Secret key holding the bearer token.")
    max_concurrency: StrictInt = Field(default=4, ge=1, le=32, description="Parallel write requests to the app.")


class Target(SpecModel):
    scim: ScimTargetSpec


class Rules(SpecModel):
    include_external: StrictBool = Field(
        default=False, description="Also sync external staff; internal employees are always synced."
    )
    on_leave: LeavePolicy = Field(
        default=LeavePolicy.ACTIVE,
        description="What people on leave get: an Active or a deactivated account.",
    )


class Users(SpecModel):
    job_title: StrictBool = Field(default=True, description="Sync the Personio position to the SCIM title.")


class TeamKind(StrEnum):
    SUPERVISOR = "supervisor"
    TEAM = "team"
    DEPARTMENT = "department"
    OFFICE = "office"
    EMPLOYMENT_TYPE = "employmentType"


class TeamNameTemplates(SpecModel):
    """Override team names; ``{name}`` is the department/team/office/employment type or the
    supervisor's full name. Defaults depend on defaultLanguage."""

    supervisor: Template | None = Field(default=None, description='e.g. "{name}\'s Team"')
    team: Template | None = Field(default=None, description="e.g. 'Team {name}'")
    department: Template | None = Field(default=None, description="e.g. 'Department {name}'")
    office: Template | None = Field(default=None, description="e.g. 'Office {name}'")
    employment_type: Template | None = Field(default=None, description="e.g. '{name} employees'")


class Teams(SpecModel):
    supervisor: StrictBool = Field(default=False, description="One team per supervisor with their direct reports.")
    team: StrictBool = Field(default=False, description="One team per Personio team.")
    department: StrictBool = Field(default=False, description="One team per Personio department.")
    office: StrictBool = Field(default=False, description="One team per office (workplace).")
    employment_type: StrictBool = Field(default=False, description="One team per employment type.")
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


class Safety(SpecModel):
    max_deactivations: Threshold = Field(
        default="10%",
        description="Most deactivations one run may make, as a count ('25') or a share of managed users ('10%').",
        json_schema_extra={
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_THRESHOLD_LENGTH,
            "x-kubernetes-validations": [threshold_rule()],
        },
    )


class Notifications(SpecModel):
    emails: list[NotificationEmail] = Field(
        default_factory=list,
        max_length=MAX_NOTIFICATION_EMAILS,
        description="Who is e-mailed when a run fails (at most 20 addresses).",
    )


class PersonioIntegrationSpec(SpecModel):
    active: StrictBool = Field(default=True, description="false stops all runs; switching it on runs at once.")
    schedule: CronExpression = Field(
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
    history_limit: StrictInt = Field(default=10, ge=1, le=MAX_HISTORY_LIMIT, description="Runs kept in status.history.")
