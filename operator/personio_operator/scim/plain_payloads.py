"""The payload layer's fast path: SCIM payloads of the plain forms built and read as plain dicts.

Each function gives what its scim2-models counterpart in ``payloads`` gives, or None (or raises
``ValueError``) for anything outside the plain form, which ``payloads`` then hands to scim2-models.
``payloads`` uses a result only for payload shapes where scim2-models agreed once (``shapes``).
What scim2-models checks per value, this module checks per value, with the same functions: e-mail
addresses (pydantic's ``EmailStr``: email-validator, ``Name <address>`` forms, the normalised address)
and timestamps (pydantic's datetime). Readers take only the attributes listed here, in their exact
spelling and type; any other attribute, spelling or type is left to scim2-models, which resolves
names ignoring case and checks attributes we do not read (a ``profileUrl``, a ``password``...).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError
from pydantic.networks import validate_email

from personio_operator.safe_text import clean_text
from personio_operator.scim.emails import MAX_EMAIL_LENGTH, validated
from personio_operator.scim.models import DesiredUser, ScimGroup, ScimUser, UserField
from personio_operator.scim.shapes import SIGNIFICANT_KEYS

if TYPE_CHECKING:
    from personio_operator.scim.discovery import ScimDialect
    from personio_operator.scim.plan import FieldChange

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

_TIMESTAMP = TypeAdapter(datetime)
_META = {"resourceType": str, "created": datetime, "lastModified": datetime, "location": str, "version": str}
_NAME = dict.fromkeys(("givenName", "familyName", "formatted", "middleName", "honorificPrefix", "honorificSuffix"), str)
_EMAIL = {"value": "email", "type": str, "primary": bool, "display": str}
_MEMBER = dict.fromkeys(("value", "$ref", "type", "display"), str)
_MANAGER = dict.fromkeys(("value", "$ref", "displayName"), str)
_ENTERPRISE = {
    **dict.fromkeys(("employeeNumber", "costCenter", "organization", "division", "department"), str),
    "manager": _MANAGER,
}
_USER = {
    "id": str,
    "externalId": str,
    "meta": _META,
    **dict.fromkeys(("userName", "displayName", "nickName", "title", "userType", "preferredLanguage"), str),
    **dict.fromkeys(("locale", "timezone"), str),
    "name": _NAME,
    "emails": [_EMAIL],
    "active": bool,
    "groups": [_MEMBER],
    ENTERPRISE_URN: _ENTERPRISE,
}
_GROUP = {"id": str, "externalId": str, "meta": _META, "displayName": str, "members": [_MEMBER]}


class _NotPlain(Exception):
    """The payload is outside the plain form: scim2-models reads it."""


def email_value(address: str) -> str:
    """What scim2-models stores for an ``emails[].value``: pydantic's ``EmailStr`` (raises ``ValueError``).

    ``EmailStr`` takes the address out of a ``Name <address>`` form, strips it and returns email-validator's
    normalised form (no DNS); for an address with no such form that is the check ``emails`` remembers."""
    if "<" not in address and "\r" not in address and "\n" not in address and len(address) <= MAX_EMAIL_LENGTH:
        result = validated(address.strip())
        if isinstance(result, str):
            raise ValueError(result)
        return result.normalized
    try:
        return validate_email(address)[1]
    except Exception as error:  # pydantic's PydanticCustomError is not a ValueError
        raise ValueError(str(error)) from None


def _checked(value: Any, rule: Any, key: str = "") -> tuple[Any, Hashable]:
    """The value as scim2-models would hold it, checked against ``rule`` (a type, a dict of attributes, a
    one-item list of the item rule, "email", "schemas"), and its shape (``shapes.shape_of``'s definition);
    raises ``_NotPlain`` outside the plain form."""
    if value is None:
        return None, None
    kind = type(value)
    if rule is str:
        if kind is not str:
            raise _NotPlain
        return value, ("=", value) if key in SIGNIFICANT_KEYS else ("s" if value else "")
    if rule is bool:
        if kind is not bool:
            raise _NotPlain
        return value, value
    if kind is dict:
        if type(rule) is not dict or not value.keys() <= rule.keys():
            raise _NotPlain
        attributes, shapes = {}, []
        for name, item in value.items():
            attributes[name], shape = _checked(item, rule[name], name)
            shapes.append((name, shape))
        shapes.sort()
        return attributes, ("{", tuple(shapes))
    if kind is list:
        if type(rule) is not list:
            raise _NotPlain
        items, shapes, primaries = [], set(), 0
        for entry in value:
            item, shape = _checked(entry, rule[0], key)
            items.append(item)
            shapes.add(shape)
            primaries += type(item) is dict and item.get("primary") is True
        return items, ("[", frozenset(shapes), min(primaries, 2))
    if kind is not str:
        raise _NotPlain
    if rule == "email":
        try:
            return email_value(value), "s"
        except ValueError:
            raise _NotPlain from None
    if rule is datetime:
        try:
            _TIMESTAMP.validate_python(value)
        except ValidationError:
            raise _NotPlain from None
        return value, "s"
    raise _NotPlain


def _resource(
    payload: Any, rule: dict[str, Any], schemas: frozenset[str], core: str
) -> tuple[dict[str, Any], Hashable]:
    """The payload's attributes, checked, and its shape; ``_NotPlain`` when outside the plain form."""
    if type(payload) is not dict:
        raise _NotPlain
    declared = payload.get("schemas")
    if type(declared) is not list or core not in declared or not set(declared) <= schemas:
        raise _NotPlain
    if ENTERPRISE_URN in payload and ENTERPRISE_URN not in declared:
        raise _NotPlain
    resource, shape = _checked(payload, {**rule, "schemas": [str]})
    if not resource.get("id"):
        raise _NotPlain
    return resource, shape


def primary_email(emails: Iterable[tuple[str | None, str | None, bool | None]]) -> str | None:
    """The address a user is reached at, of (value, type, primary): the primary one, else a work one, else the first."""
    listed = list(emails)
    for value, _type, primary in listed:
        if primary and value:
            return value
    for value, kind, _primary in listed:
        if kind == "work" and value:
            return value
    return next((value for value, _type, _primary in listed if value), None)


def read_user(payload: Any) -> tuple[Hashable, ScimUser] | None:
    """The payload's shape and the User of the plain form as ``payloads.parse_user`` reads it; else None."""
    try:
        user, shape = _resource(payload, _USER, frozenset({CORE_USER, ENTERPRISE_URN}), CORE_USER)
    except _NotPlain:
        return None
    emails = user.get("emails") or []
    if not user.get("userName") or sum(1 for email in emails if email.get("primary") is True) > 1:
        return None
    name = user.get("name") or {}
    enterprise = user.get(ENTERPRISE_URN) or {}
    manager = enterprise.get("manager") or {}
    active = user.get("active")
    return shape, ScimUser(
        id=user["id"],
        user_name=user["userName"],
        external_id=user.get("externalId") or None,
        active=True if active is None else active,
        given_name=name.get("givenName"),
        family_name=name.get("familyName"),
        email=primary_email((email.get("value"), email.get("type"), email.get("primary")) for email in emails),
        title=user.get("title"),
        user_type=user.get("userType"),
        preferred_language=user.get("preferredLanguage"),
        employee_number=enterprise.get("employeeNumber"),
        department=enterprise.get("department"),
        manager_id=manager.get("value") or None,
    )


def read_group(payload: Any) -> tuple[Hashable, ScimGroup] | None:
    """The payload's shape and the Group of the plain form as ``payloads.parse_group`` reads it; else None."""
    try:
        group, shape = _resource(payload, _GROUP, frozenset({CORE_GROUP}), CORE_GROUP)
    except _NotPlain:
        return None
    if not group.get("displayName"):
        return None
    return shape, ScimGroup(
        id=group["id"],
        display_name=group["displayName"],
        external_id=group.get("externalId") or None,
        member_ids=frozenset(member["value"] for member in group.get("members") or [] if member.get("value")),
    )


# --- writing -----------------------------------------------------------------------------------


def email_entry(address: str, dialect: ScimDialect | None) -> dict[str, Any]:
    """A work address in the form the app declares (``type`` and ``primary`` only when it has them)."""
    entry: dict[str, Any] = {"value": email_value(address)}
    if dialect is None or dialect.email_type:
        entry["type"] = "work"
    if dialect is None or dialect.email_primary:
        entry["primary"] = True
    return entry


def user_creation(desired: DesiredUser, manager_id: str | None, dialect: ScimDialect | None) -> dict[str, Any]:
    def managed(field: UserField, value: Any) -> Any:
        return value if desired.manages(field) else None

    payload: dict[str, Any] = {
        "schemas": [CORE_USER],
        "externalId": desired.external_id,
        "userName": desired.user_name,
    }
    given = managed(UserField.GIVEN_NAME, desired.given_name)
    family = managed(UserField.FAMILY_NAME, desired.family_name)
    if given is not None or family is not None:
        payload["name"] = _present(familyName=family, givenName=given)
    display = managed(UserField.DISPLAY_NAME, clean_text(f"{desired.given_name} {desired.family_name}") or None)
    payload.update(
        _present(
            displayName=display,
            title=managed(UserField.TITLE, desired.title),
            userType=managed(UserField.USER_TYPE, desired.user_type),
            preferredLanguage=managed(UserField.PREFERRED_LANGUAGE, desired.preferred_language),
            active=desired.active,
        )
    )
    if desired.manages(UserField.EMAILS):
        payload["emails"] = [email_entry(desired.email, dialect)]
    enterprise = _present(
        employeeNumber=managed(UserField.EMPLOYEE_NUMBER, desired.employee_number),
        department=managed(UserField.DEPARTMENT, desired.department),
        manager={"value": manager_id} if manager_id and desired.manages(UserField.MANAGER) else None,
    )
    if enterprise:
        payload["schemas"].append(ENTERPRISE_URN)
        payload[ENTERPRISE_URN] = enterprise
    return payload


def user_patch(changes: Iterable[FieldChange], paths: dict[str, str], dialect: ScimDialect | None) -> dict[str, Any]:
    operations = []
    for change in changes:
        path = paths.get(change.field)
        if path is None:
            raise ValueError(f"unknown user field {change.field!r}")
        value = change.new
        if value is None or value == "":
            operations.append({"op": "remove", "path": path})
            continue
        if change.field == UserField.EMAILS:
            value = [email_entry(value, dialect)]
        elif change.field == UserField.MANAGER:
            value = {"value": value}
        operations.append({"op": "replace", "path": path, "value": value})
    return {"schemas": [PATCH_OP], "Operations": operations}


def members(member_ids: Iterable[str]) -> list[dict[str, str]]:
    return [{"value": member_id, "type": "User"} for member_id in member_ids]


def group_creation(external_id: str, display_name: str, member_ids: Sequence[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {"schemas": [CORE_GROUP], "externalId": external_id, "displayName": display_name}
    if member_ids:
        payload["members"] = members(member_ids)
    return payload


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def _present(**attributes: Any) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if value is not None}
