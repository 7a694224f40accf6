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

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from personio_operator.safe_text import clean_text


def _app_text(value: str) -> str:
    return clean_text(value)


AppText = Annotated[str, AfterValidator(_app_text)]

EXTERNAL_ID_PREFIX = "personio:"


def user_external_id(person_id: str) -> str:
    return f"{EXTERNAL_ID_PREFIX}{person_id}"


def person_id_of(external_id: str) -> str | None:
    """The Personio person id in a user's externalId, or None if it is not one of ours."""
    if not is_managed_external_id(external_id):
        return None
    person_id = external_id.removeprefix(EXTERNAL_ID_PREFIX)
    return person_id if person_id and ":" not in person_id else None


def group_external_id(kind: str, source_id: str) -> str:
    return f"{EXTERNAL_ID_PREFIX}{kind}:{source_id}"


def is_managed_external_id(external_id: str | None) -> bool:
    return bool(external_id) and external_id.startswith(EXTERNAL_ID_PREFIX)


class UserField(StrEnum):
    """A user attribute the sync writes, by the name plans show (``FieldChange.field``)."""

    EXTERNAL_ID = "externalId"
    USER_NAME = "userName"
    ACTIVE = "active"
    GIVEN_NAME = "name.givenName"
    FAMILY_NAME = "name.familyName"
    DISPLAY_NAME = "displayName"
    EMAILS = "emails"
    TITLE = "title"
    USER_TYPE = "userType"
    PREFERRED_LANGUAGE = "preferredLanguage"
    EMPLOYEE_NUMBER = "employeeNumber"  # the enterprise extension's
    DEPARTMENT = "department"  # the enterprise extension's
    MANAGER = "manager"  # the enterprise extension's


ALL_USER_FIELDS = frozenset(UserField)
# Who a user is and whether they may sign in: written to every app, whatever else it holds.
IDENTITY_FIELDS = frozenset({UserField.EXTERNAL_ID, UserField.USER_NAME, UserField.ACTIVE})
# Set when the account is created, then left to the people using the app.
CREATE_ONLY_FIELDS = frozenset({UserField.DISPLAY_NAME, UserField.PREFERRED_LANGUAGE})
ENTERPRISE_FIELDS = frozenset({UserField.EMPLOYEE_NUMBER, UserField.DEPARTMENT, UserField.MANAGER})


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
    """A user as the sync wants it, and which of its attributes the sync manages (``managed``).

    An attribute that is not managed is never written, compared or cleared, whatever its value here:
    the spec turned it off (``users.jobTitle``), Personio returned it for nobody, or the app does not
    hold it. ``displayName`` and ``preferredLanguage`` are written on create only.
    """

    model_config = ConfigDict(frozen=True)

    external_id: str
    user_name: str  # the work e-mail
    given_name: AppText
    family_name: AppText
    email: str
    active: bool = True
    title: AppText | None = None
    user_type: AppText | None = None  # "Internal" / "External"
    preferred_language: str | None = None
    employee_number: AppText | None = None  # Personio person id
    department: AppText | None = None
    manager_external_id: str | None = None  # linked after all users exist
    managed: frozenset[UserField] = ALL_USER_FIELDS

    def manages(self, field: UserField) -> bool:
        return field in self.managed or field in IDENTITY_FIELDS


class DesiredGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    display_name: AppText
    member_external_ids: frozenset[str] = frozenset()


class DesiredState(BaseModel):
    """Everything the plan is made from besides the app's state, so that it is made once, in one pass."""

    users: list[DesiredUser] = Field(default_factory=list)
    groups: list[DesiredGroup] = Field(default_factory=list)
    # Users whose accounts are left exactly as they are (bad data in Personio): never changed or
    # deactivated, kept in their teams; without an account they are left out of team member lists.
    held: frozenset[str] = frozenset()
    # Why a managed user gets no active account (externalId -> words), for deactivations.
    inactive_reasons: dict[str, str] = Field(default_factory=dict)
