"""Translation between SCIM payloads (via scim2-models) and our library-neutral models.

Reading is lenient: unknown attributes and extension schemas are ignored, string booleans such
as ``"False"`` and numbers sent as strings are coerced. Writing builds RFC 7643/7644 payloads and
lets scim2-models check them (a PATCH path that is not in the schema fails here, not at the server).
A created user carries only the attributes the desired user manages (``DesiredUser.managed``, which
includes what the app holds), and e-mails only with the sub-attributes the app declares (``dialect``).

scim2-models is the reference for every payload, asked once per payload shape: payloads of the plain
forms are built and read as plain dicts (``plain_payloads``) wherever scim2-models gave the same result
for the first payload of that shape (``shapes``), and go through scim2-models otherwise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from scim2_models import (
    Context,
    Email,
    EnterpriseUser,
    Error,
    Group,
    GroupMember,
    ListResponse,
    Manager,
    Name,
    PatchOp,
    PatchOperation,
    ScimPolicy,
    User,
)

from personio_operator.safe_text import clean_text
from personio_operator.scim import plain_payloads as plain
from personio_operator.scim.models import DesiredUser, ScimGroup, ScimUser, UserField
from personio_operator.scim.plan import FieldChange
from personio_operator.scim.shapes import ShapeChecked, shape_of

if TYPE_CHECKING:
    from personio_operator.scim.discovery import ScimDialect

LENIENT_POLICY = ScimPolicy(unknown=ScimPolicy.Unknown.ignore)
EnterpriseScimUser = User[EnterpriseUser]
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# FieldChange.field names (what people read in plans) -> SCIM attribute paths.
USER_FIELD_PATHS: dict[str, str] = {
    "externalId": "externalId",
    "userName": "userName",
    "name.givenName": "name.givenName",
    "name.familyName": "name.familyName",
    "emails": "emails",
    "title": "title",
    "userType": "userType",
    "preferredLanguage": "preferredLanguage",
    "active": "active",
    "employeeNumber": f"{ENTERPRISE_URN}:employeeNumber",
    "department": f"{ENTERPRISE_URN}:department",
    "manager": f"{ENTERPRISE_URN}:manager",
}


class PayloadError(ValueError):
    """A server answer that cannot be read as the SCIM resource it should be."""


# --- reading -----------------------------------------------------------------------------------


_USERS_READ = ShapeChecked[ScimUser]("reading users")
_GROUPS_READ = ShapeChecked[ScimGroup]("reading groups")


def parse_user(payload: Any) -> ScimUser:
    if not isinstance(payload, dict):
        raise PayloadError("a User in the answer is not a JSON object")
    shape, fast = plain.read_user(payload) or (None, None)
    return _USERS_READ.result(shape, fast, lambda: _parse_user(payload))


def _parse_user(payload: dict[str, Any]) -> ScimUser:
    try:
        user = EnterpriseScimUser.model_validate(
            payload, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=LENIENT_POLICY
        )
    except ValueError as error:
        raise PayloadError(f"User {payload.get('id')!r} could not be read: {first_error_text(error)}") from error
    if not user.id or not user.user_name:
        raise PayloadError(f"a User in the answer has no id or userName (id={user.id!r})")
    enterprise = user[EnterpriseUser]
    manager = enterprise.manager if enterprise else None
    return ScimUser(
        id=user.id,
        user_name=user.user_name,
        external_id=user.external_id or None,
        active=True if user.active is None else bool(user.active),
        given_name=user.name.given_name if user.name else None,
        family_name=user.name.family_name if user.name else None,
        email=plain.primary_email((email.value, email.type, email.primary) for email in user.emails or []),
        title=user.title,
        user_type=user.user_type,
        preferred_language=user.preferred_language,
        employee_number=enterprise.employee_number if enterprise else None,
        department=enterprise.department if enterprise else None,
        manager_id=(manager.value or None) if manager else None,
    )


def parse_group(payload: Any) -> ScimGroup:
    if not isinstance(payload, dict):
        raise PayloadError("a Group in the answer is not a JSON object")
    shape, fast = plain.read_group(payload) or (None, None)
    return _GROUPS_READ.result(shape, fast, lambda: _parse_group(payload))


def _parse_group(payload: dict[str, Any]) -> ScimGroup:
    try:
        group = Group.model_validate(payload, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=LENIENT_POLICY)
    except ValueError as error:
        raise PayloadError(f"Group {payload.get('id')!r} could not be read: {first_error_text(error)}") from error
    if not group.id:
        raise PayloadError("a Group in the answer has no id")
    return ScimGroup(
        id=group.id,
        display_name=group.display_name or "",
        external_id=group.external_id or None,
        member_ids=frozenset(member.value for member in group.members or [] if member.value),
    )


def parse_list_page(payload: Any) -> tuple[list[Any], int | None]:
    """The raw resources of a ListResponse page and its totalResults (None if the server left it out)."""
    if not isinstance(payload, dict):
        raise PayloadError("the list answer is not a JSON object")
    try:
        page = ListResponse[EnterpriseScimUser | Group].model_validate(
            {**payload, "Resources": []}, scim_ctx=Context.SEARCH_RESPONSE, scim_policy=LENIENT_POLICY
        )
    except ValueError as error:
        raise PayloadError(f"the list answer could not be read: {first_error_text(error)}") from error
    resources = payload.get("Resources", payload.get("resources")) or []
    if not isinstance(resources, list):
        raise PayloadError("the list answer's Resources is not a list")
    return resources, page.total_results


def parse_error(payload: Any) -> Error | None:
    """The SCIM Error in an error answer, if it has one."""
    if not isinstance(payload, dict):
        return None
    try:
        return Error.model_validate(payload, scim_policy=LENIENT_POLICY)
    except ValueError:
        return None


def first_error_text(error: ValueError) -> str:
    """The first problem a pydantic validation found, as 'location: message'."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        location = ".".join(str(part) for part in first.get("loc", ()))
        return f"{location}: {first.get('msg')}" if location else str(first.get("msg"))
    return str(error)


# --- writing -----------------------------------------------------------------------------------


_CREATED_USERS = ShapeChecked[dict[str, Any]]("building users")
_USER_PATCHES = ShapeChecked[dict[str, Any]]("building user changes")
_CREATED_GROUPS = ShapeChecked[dict[str, Any]]("building groups")
_GROUP_PATCHES = ShapeChecked[dict[str, Any]]("building group changes")


def _built(
    check: ShapeChecked[dict[str, Any]], fast: Callable[[], dict[str, Any]], reference: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The fast payload where scim2-models built the same for its shape; scim2-models' payload or error otherwise."""
    try:
        payload = fast()
    except ValueError:  # a value scim2-models refuses too (an e-mail): its own error says why
        return reference()
    return check.result(shape_of(payload), payload, reference)


def user_creation_payload(
    desired: DesiredUser, *, manager_id: str | None = None, dialect: ScimDialect | None = None
) -> dict[str, Any]:
    """The POST /Users body: the attributes ``desired`` manages, nothing else."""
    return _built(
        _CREATED_USERS,
        lambda: plain.user_creation(desired, manager_id, dialect),
        lambda: _user_creation_payload(desired, manager_id, dialect),
    )


def _user_creation_payload(desired: DesiredUser, manager_id: str | None, dialect: ScimDialect | None) -> dict[str, Any]:
    def managed(field: UserField, value: Any) -> Any:
        return value if desired.manages(field) else None

    given = managed(UserField.GIVEN_NAME, desired.given_name)
    family = managed(UserField.FAMILY_NAME, desired.family_name)
    user = EnterpriseScimUser(
        user_name=desired.user_name,
        external_id=desired.external_id,
        name=Name(given_name=given, family_name=family) if given is not None or family is not None else None,
        display_name=managed(UserField.DISPLAY_NAME, clean_text(f"{desired.given_name} {desired.family_name}") or None),
        emails=[_email(desired.email, dialect)] if desired.manages(UserField.EMAILS) else None,
        active=desired.active,
        title=managed(UserField.TITLE, desired.title),
        user_type=managed(UserField.USER_TYPE, desired.user_type),
        preferred_language=managed(UserField.PREFERRED_LANGUAGE, desired.preferred_language),
    )
    enterprise = EnterpriseUser(
        employee_number=managed(UserField.EMPLOYEE_NUMBER, desired.employee_number),
        department=managed(UserField.DEPARTMENT, desired.department),
        manager=Manager(value=manager_id) if manager_id and desired.manages(UserField.MANAGER) else None,
    )
    if enterprise.model_dump(exclude_none=True, exclude={"schemas"}):
        user[EnterpriseUser] = enterprise
    return user.model_dump(scim_ctx=Context.RESOURCE_CREATION_REQUEST)


def _email(address: str, dialect: ScimDialect | None) -> Email:
    """A work address in the form the app declares (``type`` and ``primary`` only when it has them)."""
    with_type = dialect is None or dialect.email_type
    with_primary = dialect is None or dialect.email_primary
    return Email(value=address, type="work" if with_type else None, primary=True if with_primary else None)


def _email_value(address: str, dialect: ScimDialect | None) -> list[dict[str, Any]]:
    return [_email(address, dialect).model_dump(exclude_none=True)]


def user_patch_payload(changes: Iterable[FieldChange], *, dialect: ScimDialect | None = None) -> dict[str, Any]:
    listed = list(changes)
    return _built(
        _USER_PATCHES,
        lambda: plain.user_patch(listed, USER_FIELD_PATHS, dialect),
        lambda: _user_patch_payload(listed, dialect),
    )


def _user_patch_payload(changes: Sequence[FieldChange], dialect: ScimDialect | None) -> dict[str, Any]:
    operations = [_user_operation(change, dialect) for change in changes]
    patch = PatchOp[EnterpriseScimUser](operations=operations)
    return patch.model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)


def _user_operation(change: FieldChange, dialect: ScimDialect | None) -> PatchOperation[Any]:
    path = USER_FIELD_PATHS.get(change.field)
    if path is None:
        raise ValueError(f"unknown user field {change.field!r}")
    value = change.new
    if value is None or value == "":
        return PatchOperation(op="remove", path=path)
    if change.field == UserField.EMAILS:
        value = _email_value(value, dialect)
    elif change.field == UserField.MANAGER:
        value = {"value": value}
    return PatchOperation(op="replace", path=path, value=value)


def apply_user_changes(
    payload: dict[str, Any], changes: Iterable[FieldChange], *, dialect: ScimDialect | None = None
) -> dict[str, Any]:
    """The full User payload with the changes applied, for servers without PATCH (PUT replaces all)."""
    result = copy.deepcopy(payload)
    result.pop("meta", None)
    for change in changes:
        path = USER_FIELD_PATHS.get(change.field)
        if path is None:
            raise ValueError(f"unknown user field {change.field!r}")
        value: Any = change.new
        if change.field == UserField.EMAILS and value:
            value = _email_value(value, dialect)
        elif change.field == UserField.MANAGER and value:
            value = {"value": value}
        if path.startswith(ENTERPRISE_URN):
            container = result.setdefault(ENTERPRISE_URN, {})
            key = path.removeprefix(f"{ENTERPRISE_URN}:")
            schemas = result.setdefault("schemas", [])
            if ENTERPRISE_URN not in schemas:
                schemas.append(ENTERPRISE_URN)
        elif "." in path:
            parent, key = path.split(".", 1)
            container = result.setdefault(parent, {}) or {}
            result[parent] = container
        else:
            container, key = result, path
        if value is None or value == "":
            container.pop(key, None)
        else:
            container[key] = value
    return result


def updated_user(user: ScimUser, changes: Iterable[FieldChange]) -> ScimUser:
    """Our view of a user after the changes were written (for answers without a body)."""
    attribute = {
        "externalId": "external_id",
        "userName": "user_name",
        "name.givenName": "given_name",
        "name.familyName": "family_name",
        "emails": "email",
        "title": "title",
        "userType": "user_type",
        "preferredLanguage": "preferred_language",
        "active": "active",
        "employeeNumber": "employee_number",
        "department": "department",
        "manager": "manager_id",
    }
    return user.model_copy(update={attribute[change.field]: change.new for change in changes})


def group_creation_payload(external_id: str, display_name: str, member_ids: Iterable[str]) -> dict[str, Any]:
    listed = list(member_ids)
    return _built(
        _CREATED_GROUPS,
        lambda: plain.group_creation(external_id, display_name, listed),
        lambda: _group_creation_payload(external_id, display_name, listed),
    )


def _group_creation_payload(external_id: str, display_name: str, member_ids: Sequence[str]) -> dict[str, Any]:
    members = [GroupMember(value=member_id, type="User") for member_id in member_ids]
    group = Group(display_name=display_name, external_id=external_id, members=members or None)
    return group.model_dump(scim_ctx=Context.RESOURCE_CREATION_REQUEST)


def group_rename_payload(display_name: str) -> dict[str, Any]:
    return _built(
        _GROUP_PATCHES,
        lambda: plain.patch({"op": "replace", "path": "displayName", "value": display_name}),
        lambda: _group_rename_payload(display_name),
    )


def _group_rename_payload(display_name: str) -> dict[str, Any]:
    patch = PatchOp[Group](operations=[PatchOperation(op="replace", path="displayName", value=display_name)])
    return patch.model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)


def members_add_payload(member_ids: Iterable[str]) -> dict[str, Any]:
    listed = list(member_ids)
    return _built(
        _GROUP_PATCHES,
        lambda: plain.patch({"op": "add", "path": "members", "value": plain.members(listed)}),
        lambda: _members_add_payload(listed),
    )


def _members_add_payload(member_ids: Sequence[str]) -> dict[str, Any]:
    value = [{"value": member_id, "type": "User"} for member_id in member_ids]
    patch = PatchOp[Group](operations=[PatchOperation(op="add", path="members", value=value)])
    return patch.model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)


def members_remove_filter_payload(member_ids: Iterable[str]) -> dict[str, Any]:
    """RFC 7644 §3.5.2.2 form: one ``remove`` per member with a value filter in the path."""
    operations = [
        PatchOperation(op="remove", path=f"members[value eq {quote_filter_value(member_id)}]")
        for member_id in member_ids
    ]
    return PatchOp[Group](operations=operations).model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)


def members_remove_value_payload(member_ids: Iterable[str]) -> dict[str, Any]:
    """The form Entra and authentik send: one ``remove`` of ``members`` with a value list."""
    # Built by hand: scim2-models (rightly, per the RFC) refuses a remove that carries a value.
    value = [{"value": member_id} for member_id in member_ids]
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "members", "value": value}],
    }


def quote_filter_value(value: str) -> str:
    """A string literal for a SCIM filter (RFC 7644 §3.4.2.2 uses JSON string syntax)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
