"""What the target holds and what we want it to hold, in SCIM terms but library-neutral.

External ids are namespaced so that ownership is decidable from the app alone:
users ``personio:<person id>``, groups ``personio:<kind>:<source id>`` (kind: supervisor, team,
department, office, employmentType). A user or group without such an externalId was not created
or adopted by us and is never changed.

Every text a desired user or group carries to the app is clean by construction (``AppText``): no
control or invisible characters, at most 256 characters. Whoever builds one, the app gets the
same text the planner compared.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from personio_operator.safe_text import clean_text


def _app_text(value: str) -> str:
    return clean_text(value)


AppText = Annotated[str, AfterValidator(_app_text)]

EXTERNAL_ID_PREFIX = "personio:"


def user_external_id(person_id: str) -> str:
    return f"{EXTERNAL_ID_PREFIX}{person_id}"


def group_external_id(kind: str, source_id: str) -> str:
    return f"{EXTERNAL_ID_PREFIX}{kind}:{source_id}"


def is_managed_external_id(external_id: str | None) -> bool:
    return bool(external_id) and external_id.startswith(EXTERNAL_ID_PREFIX)


class ScimUser(BaseModel):
    """A user as read from the app (only the attributes we manage)."""

    model_config = ConfigDict(frozen=True)

    id: str
    user_name: str
    external_id: str | None = None
    active: bool = True
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    title: str | None = None
    user_type: str | None = None
    preferred_language: str | None = None
    employee_number: str | None = None
    department: str | None = None
    manager_id: str | None = None  # SCIM id of the manager (enterprise extension manager.value)


class ScimGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    display_name: str
    external_id: str | None = None
    member_ids: frozenset[str] = frozenset()  # SCIM ids of member users


class TargetState(BaseModel):
    """Everything listed from the app at the start of a run (managed and unmanaged)."""

    users: list[ScimUser] = Field(default_factory=list)
    groups: list[ScimGroup] = Field(default_factory=list)


class DesiredUser(BaseModel):
    """A user as the sync wants it. ``preferred_language`` is applied on create only."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    user_name: str  # the work e-mail
    given_name: AppText
    family_name: AppText
    email: str
    active: bool = True
    title: AppText | None = None  # None with users.jobTitle off: the attribute is not managed
    manage_title: bool = False
    user_type: AppText | None = None  # "Internal" / "External"
    preferred_language: str | None = None
    employee_number: AppText | None = None  # Personio person id
    department: AppText | None = None
    manager_external_id: str | None = None  # linked after all users exist


class DesiredGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    display_name: AppText
    member_external_ids: frozenset[str] = frozenset()


class DesiredState(BaseModel):
    users: list[DesiredUser] = Field(default_factory=list)
    groups: list[DesiredGroup] = Field(default_factory=list)
