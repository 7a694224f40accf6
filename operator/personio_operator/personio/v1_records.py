"""Parse one v1 ``/company/employees`` item into a :class:`PersonRecord`.

v1 wraps every value as ``{"label", "value", "type", "universal_id"}``; labels are translated and
renamed over time ("Office" became "Workplace"), so only keys are used. Known type quirks: numbers
as strings, ``""``/``[]`` instead of null objects, ids as int or string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from personio_operator.personio.models import Attribute, NamedRef, PersonRef
from personio_operator.personio.records import PersonRecord, employment_status, employment_type, identifier, text


def unwrap(entry: Any) -> Any:
    """The value of an attribute entry; a bare value (no wrapper) is returned as it is."""
    if isinstance(entry, Mapping) and "value" in entry and ("label" in entry or "type" in entry):
        return entry["value"]
    return entry


def nested_attributes(value: Any) -> Mapping[str, Any] | None:
    """The ``attributes`` of a nested object such as ``{"type": "Department", "attributes": {...}}``."""
    if isinstance(value, Mapping):
        inner = value.get("attributes")
        if isinstance(inner, Mapping):
            return inner
    return None


def parse_employee(item: Any) -> PersonRecord | None:
    """None when the item has no usable id (the caller warns)."""
    attributes = nested_attributes(item)
    if attributes is None:
        return None
    person_id = identifier(unwrap(attributes.get("id")))
    if person_id is None:
        return None
    record = PersonRecord(id=person_id, present={a for a in Attribute if a.value in attributes})
    value = {key: unwrap(entry) for key, entry in attributes.items()}
    record.first_name = text(value.get("first_name"))
    record.last_name = text(value.get("last_name"))
    record.preferred_name = text(value.get("preferred_name"))
    record.email = text(value.get("email"))
    record.status = employment_status(value.get("status"))
    record.employment_type = employment_type(value.get("employment_type"))
    record.position = text(value.get("position"))
    record.supervisor = _person_ref(value.get("supervisor"))
    record.department = _named_ref(value.get("department"))
    record.team = _named_ref(value.get("team"))
    record.office = _named_ref(value.get("office"))
    return record


def _person_ref(value: Any) -> PersonRef | None:
    attributes = nested_attributes(value)
    if attributes is None:
        return None
    person_id = identifier(unwrap(attributes.get("id")))
    if person_id is None:
        return None
    return PersonRef(
        id=person_id,
        first_name=text(unwrap(attributes.get("first_name"))),
        last_name=text(unwrap(attributes.get("last_name"))),
    )


def _named_ref(value: Any) -> NamedRef | None:
    attributes = nested_attributes(value)
    if attributes is None:
        return None
    ref_id = identifier(unwrap(attributes.get("id")))
    if ref_id is None:
        return None
    return NamedRef(id=ref_id, name=text(unwrap(attributes.get("name"))))
