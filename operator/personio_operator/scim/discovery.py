"""What a SCIM app says it supports, and so what the sync sends it: its dialect.

Read at the start of every run and Test from the three discovery endpoints (RFC 7644 §4):

* ``/ServiceProviderConfig`` -> ``ScimFeatures``: PATCH, filters and their ``maxResults`` (the page
  size), ETags. Without a readable one: PATCH and filters assumed (both have fallbacks when the app
  refuses a request), no ETags, pages of at most 100.
* ``/ResourceTypes`` -> whether the User resource type lists the enterprise extension.
* ``/Schemas`` -> which attributes (and sub-attributes) the core User schema and the enterprise
  extension declare, and whether they are writable (not ``readOnly``) and readable back (not
  ``returned: never``: an attribute the app never shows would be rewritten on every run).

Lenient in what we read: any of the documents may be missing (404, 501, another error status, HTML),
a ListResponse, a bare JSON array or a single resource; attribute names and URNs are compared
ignoring case; what cannot be read is treated as not declared. Conservative in what we send:
``userName``, ``externalId`` and ``active`` always (they are who a user is and whether they may
sign in); every other attribute only when the app declares it.

When a document is missing, what it would have said is assumed as the RFC defines it:

* neither /ResourceTypes nor /Schemas: the whole standard dialect, the enterprise extension
  included. RFC 7644 makes both endpoints mandatory, so an app without them is a minimal
  implementation; those accept (and at worst ignore) the standard attributes, and this is what the
  sync always sent before it read discovery documents. A strict app without discovery refuses the
  creates, visibly, per user.
* /Schemas only: the extension when /Schemas has its schema, core attributes as declared.
* /ResourceTypes only: the extension when listed, every standard core attribute (the core User
  schema is the RFC's) and every attribute of the extension.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from scim2_models import Context, ServiceProviderConfig

from personio_operator.scim.models import (
    ALL_USER_FIELDS,
    ENTERPRISE_FIELDS,
    IDENTITY_FIELDS,
    UserField,
)
from personio_operator.scim.payloads import ENTERPRISE_URN, LENIENT_POLICY

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
CORE_USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
RESOURCE_TYPES = "/ResourceTypes"
SCHEMAS = "/Schemas"
_CORE, _ENTERPRISE = CORE_USER_URN.lower(), ENTERPRISE_URN.lower()  # URNs are compared ignoring case
# Bounds on what we look at in a discovery document (an app's answer may be huge or hostile).
_MAX_RESOURCES = 200
_MAX_ATTRIBUTES = 500

# Our core fields: (attribute, sub-attribute or None) in the core User schema.
_CORE_PATHS: dict[UserField, tuple[str, str | None]] = {
    UserField.GIVEN_NAME: ("name", "givenName"),
    UserField.FAMILY_NAME: ("name", "familyName"),
    UserField.DISPLAY_NAME: ("displayName", None),
    UserField.EMAILS: ("emails", "value"),
    UserField.TITLE: ("title", None),
    UserField.USER_TYPE: ("userType", None),
    UserField.PREFERRED_LANGUAGE: ("preferredLanguage", None),
}
_ENTERPRISE_PATHS: dict[UserField, tuple[str, str | None]] = {
    UserField.EMPLOYEE_NUMBER: ("employeeNumber", None),
    UserField.DEPARTMENT: ("department", None),
    UserField.MANAGER: ("manager", "value"),
}
# How the attributes are called where a person reads what is not synced.
_LABELS: dict[UserField, str] = {
    UserField.GIVEN_NAME: "first name",
    UserField.FAMILY_NAME: "last name",
    UserField.DISPLAY_NAME: "display name",
    UserField.EMAILS: "e-mail",
    UserField.TITLE: "job title",
    UserField.USER_TYPE: "employment type",
    UserField.PREFERRED_LANGUAGE: "preferred language",
    UserField.EMPLOYEE_NUMBER: "employee number",
    UserField.DEPARTMENT: "department",
    UserField.MANAGER: "manager",
}


class ScimFeatures(BaseModel):
    """The subset of the ServiceProviderConfig that changes how the client talks to the server."""

    model_config = ConfigDict(frozen=True)

    discovered: bool = False  # False: defaults, the server had no readable ServiceProviderConfig
    patch: bool = True
    bulk: bool = False
    bulk_max_operations: int | None = None
    bulk_max_payload_size: int | None = None
    filter: bool = True
    max_results: int | None = None
    etag: bool = False
    sort: bool = False

    @property
    def page_size(self) -> int:
        """How many resources to ask for per list request."""
        if self.max_results is None or self.max_results <= 0:
            return DEFAULT_PAGE_SIZE if not self.discovered else MAX_PAGE_SIZE
        return min(self.max_results, MAX_PAGE_SIZE)


class ScimDialect(BaseModel):
    """What the app holds of the users we sync, and how it is talked to."""

    model_config = ConfigDict(frozen=True)

    features: ScimFeatures = ScimFeatures()
    user_fields: frozenset[UserField] = ALL_USER_FIELDS  # the attributes of ours the app holds
    enterprise_extension: bool = True  # the User resource type takes the enterprise extension
    email_type: bool = True  # emails[].type is declared: sent as "work"
    email_primary: bool = True  # emails[].primary is declared: sent as true
    declares_active: bool = True  # False: the User schema is known and has no "active"
    declared_by: frozenset[str] = frozenset()  # the discovery documents it was read from

    def limits(self, wanted: Iterable[UserField]) -> list[str]:
        """In words, once each: which of the ``wanted`` attributes this app does not take (not an error)."""
        missing = [field for field in UserField if field in set(wanted) - self.user_fields - IDENTITY_FIELDS]
        lines: list[str] = []
        extension = [field for field in missing if field in ENTERPRISE_FIELDS]
        if extension and not self.enterprise_extension:
            lines.append(f"the app does not support the enterprise extension: {_not_synced(extension)}")
        elif extension:
            lines.append(f"the app's enterprise extension has no {_join(extension, 'or')}: {_not_synced(extension)}")
        core = [field for field in missing if field not in ENTERPRISE_FIELDS]
        if core:
            lines.append(f"the app's User schema has no {_join(core, 'or')}: {_not_synced(core)}")
        if not self.declares_active:
            lines.append("the app's User schema has no active: deactivations may not take effect in the app")
        return lines


def features_from_config(payload: Any) -> ScimFeatures:
    """Read a ServiceProviderConfig payload leniently; fall back to defaults if it is unusable."""
    if not isinstance(payload, dict):
        log.warning("ServiceProviderConfig is not a JSON object; using conservative defaults")
        return ScimFeatures()
    try:
        config = ServiceProviderConfig.model_validate(
            payload, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=LENIENT_POLICY
        )
    except ValidationError as error:
        log.warning("ServiceProviderConfig could not be read (%s errors); using defaults", error.error_count())
        return ScimFeatures()
    return ScimFeatures(
        discovered=True,
        patch=_supported(config.patch, default=True),
        bulk=_supported(config.bulk, default=False),
        bulk_max_operations=getattr(config.bulk, "max_operations", None),
        bulk_max_payload_size=getattr(config.bulk, "max_payload_size", None),
        filter=_supported(config.filter, default=True),
        max_results=getattr(config.filter, "max_results", None),
        etag=_supported(config.etag, default=False),
        sort=_supported(config.sort, default=False),
    )


def _supported(section: Any, *, default: bool) -> bool:
    value = getattr(section, "supported", None)
    return default if value is None else bool(value)


# --- the dialect -----------------------------------------------------------------------------------


def dialect_from(features: ScimFeatures, resource_types: Any = None, schemas: Any = None) -> ScimDialect:
    """The dialect from the discovery documents (each None when the app has none or it was unreadable)."""
    extensions = _user_schema_extensions(resource_types)
    declared = _schemas_by_urn(schemas)
    core = declared.get(_CORE) if declared else None
    if extensions is not None:
        enterprise = _ENTERPRISE in extensions
    elif declared:
        enterprise = _ENTERPRISE in declared
    else:
        enterprise = True  # nothing declared at all: the standard dialect (see the module docstring)
    fields = set(IDENTITY_FIELDS)
    fields.update(_held(_CORE_PATHS, core))
    if enterprise:
        fields.update(_held(_ENTERPRISE_PATHS, declared.get(_ENTERPRISE) if declared else None))
    emails = _sub_attributes(core, "emails")
    dialect = ScimDialect(
        features=features,
        user_fields=frozenset(fields),
        enterprise_extension=enterprise,
        email_type=emails is None or "type" in emails,
        email_primary=emails is None or "primary" in emails,
        declares_active=core is None or _usable(core, "active", None),
        declared_by=frozenset(
            name for name, known in ((RESOURCE_TYPES, extensions is not None), (SCHEMAS, bool(declared))) if known
        ),
    )
    if not dialect.declared_by:
        log.info("the app declares no /ResourceTypes or /Schemas; the standard User attributes are assumed")
    return dialect


_Attributes = dict[str, dict[str, Any]] | None  # a schema's attributes by lower-cased name; None: not listed


def _user_schema_extensions(document: Any) -> frozenset[str] | None:
    """Lower-cased URNs of the User resource type's schema extensions; None when there is no User type."""
    for resource in _resources(document):
        schema, name, endpoint = (_text(_get(resource, key)) for key in ("schema", "name", "endpoint"))
        if schema == _CORE or name == "user" or endpoint.rstrip("/") == "/users":
            listed = _get(resource, "schemaExtensions")
            extensions = listed if isinstance(listed, list) else []
            return frozenset(
                _text(_get(item, "schema") if isinstance(item, dict) else item) for item in extensions[:_MAX_RESOURCES]
            )
    return None


def _schemas_by_urn(document: Any) -> dict[str, _Attributes]:
    """Each schema's attributes by its lower-cased URN (empty: nothing readable)."""
    schemas: dict[str, _Attributes] = {}
    for resource in _resources(document):
        urn = _text(_get(resource, "id"))
        if urn:
            schemas[urn] = _attributes(_get(resource, "attributes"))
    return schemas


def _attributes(listed: Any) -> _Attributes:
    if not isinstance(listed, list):
        return None  # the schema is there, its attributes are not: assume the RFC's
    attributes: dict[str, dict[str, Any]] = {}
    for attribute in listed[:_MAX_ATTRIBUTES]:
        if isinstance(attribute, dict) and _text(_get(attribute, "name")):
            attributes.setdefault(_text(_get(attribute, "name")), attribute)
    return attributes


def _held(paths: dict[UserField, tuple[str, str | None]], attributes: _Attributes) -> set[UserField]:
    return {field for field, (name, sub) in paths.items() if attributes is None or _usable(attributes, name, sub)}


def _usable(attributes: dict[str, dict[str, Any]], name: str, sub: str | None) -> bool:
    """Declared, writable and shown when read (the attribute and, if given, its sub-attribute)."""
    attribute = attributes.get(name.lower())
    if attribute is None or not _writable(attribute):
        return False
    if sub is None:
        return True
    subs = _sub_attributes(attributes, name)
    return subs is None or sub.lower() in subs


def _sub_attributes(attributes: _Attributes, name: str) -> frozenset[str] | None:
    """Lower-cased names of an attribute's usable sub-attributes; None when the schema does not list them."""
    attribute = attributes.get(name.lower()) if attributes else None
    listed = _get(attribute, "subAttributes") if attribute else None
    if not isinstance(listed, list):
        return None
    return frozenset(
        _text(_get(sub, "name")) for sub in listed[:_MAX_ATTRIBUTES] if isinstance(sub, dict) and _writable(sub)
    )


def _writable(attribute: dict[str, Any]) -> bool:
    return _text(_get(attribute, "mutability")) != "readonly" and _text(_get(attribute, "returned")) != "never"


def _resources(document: Any) -> list[dict[str, Any]]:
    """The resources of a discovery answer: a ListResponse, a bare JSON array or one resource."""
    if isinstance(document, dict):
        listed = _get(document, "Resources")
        items = listed if listed is not None else [document]
    else:
        items = document
    if not isinstance(items, list):
        return []
    return [item for item in items[:_MAX_RESOURCES] if isinstance(item, dict)]


def _get(mapping: dict[str, Any], key: str) -> Any:
    """A member by name, ignoring case (SCIM attribute names are case-insensitive)."""
    if key in mapping:
        return mapping[key]
    wanted = key.lower()
    return next((value for name, value in mapping.items() if isinstance(name, str) and name.lower() == wanted), None)


def _text(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _not_synced(fields: list[UserField]) -> str:
    labels = [_LABELS[field] for field in fields]
    return f"{_join(labels, 'and')} {'is' if len(labels) == 1 else 'are'} not synced"


def _join(items: Iterable[object], last: str) -> str:
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"
