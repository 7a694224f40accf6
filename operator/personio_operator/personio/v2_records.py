"""Parse v2 persons and employments into a :class:`PersonRecord`.

A v2 person carries names and e-mail; status, type, position, supervisor, org units and office
live on the employment. Fields not whitelisted on the credential are absent (not null), and the
schema declares no field required, so everything is read leniently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from personio_operator.personio.models import Attribute, NamedRef, PersonRef
from personio_operator.personio.records import PersonRecord, employment_status, employment_type, identifier, text

PERSON_FIELDS = {Attribute.FIRST_NAME: "first_name", Attribute.LAST_NAME: "last_name", Attribute.EMAIL: "email"}
# Department and team share ``org_units``; each counts as present when a unit of its type is listed
# (a credential may read departments but not teams).
EMPLOYMENT_FIELDS = {
    Attribute.STATUS: "status",
    Attribute.EMPLOYMENT_TYPE: "type",
    Attribute.POSITION: "position",
    Attribute.SUPERVISOR: "supervisor",
    Attribute.OFFICE: "office",
}


def parse_person(item: Any) -> PersonRecord | None:
    """None when the item has no usable id (the caller warns)."""
    if not isinstance(item, Mapping):
        return None
    person_id = identifier(item.get("id"))
    if person_id is None:
        return None
    return PersonRecord(
        id=person_id,
        present={a for a, key in PERSON_FIELDS.items() if key in item},
        first_name=text(item.get("first_name")),
        last_name=text(item.get("last_name")),
        preferred_name=text(item.get("preferred_name")),
        email=text(item.get("email")),
    )


def current_employment(employments: Sequence[Any]) -> Mapping[str, Any] | None:
    """The most recent employment: latest start date; Personio's own order (newest first) breaks ties."""
    candidates = [e for e in employments if isinstance(e, Mapping)]
    if not candidates:
        return None
    ranked = sorted(
        enumerate(candidates),
        key=lambda pair: (text(pair[1].get("employment_start_date")) or "", -pair[0]),
        reverse=True,
    )
    return ranked[0][1]


def apply_employment(record: PersonRecord, employment: Mapping[str, Any]) -> None:
    units = org_units(employment)
    record.present = (
        record.present
        | {a for a, key in EMPLOYMENT_FIELDS.items() if key in employment}
        | {Attribute(kind) for kind in units}
    )
    record.status = employment_status(employment.get("status"))
    record.employment_type = employment_type(employment.get("type"))
    record.position = _position(employment.get("position"))
    supervisor_id = _ref_id(employment.get("supervisor"))
    record.supervisor = PersonRef(id=supervisor_id) if supervisor_id else None
    office_id = _ref_id(employment.get("office"))
    record.office = NamedRef(id=office_id) if office_id else None
    record.department = units.get("department")
    record.team = units.get("team")


def org_units(employment: Mapping[str, Any]) -> dict[str, NamedRef]:
    """The employment's department and team (the first of each type)."""
    found: dict[str, NamedRef] = {}
    units = employment.get("org_units")
    if not isinstance(units, list):
        return found
    for unit in units:
        if not isinstance(unit, Mapping):
            continue
        kind = (text(unit.get("type")) or "").lower()
        unit_id = identifier(unit.get("id"))
        if kind in ("department", "team") and unit_id and kind not in found:
            found[kind] = NamedRef(id=unit_id, name=text(unit.get("name")))
    return found


def _position(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return text(value.get("title"))
    return text(value)


def _ref_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return identifier(value.get("id"))
    return identifier(value) if isinstance(value, str | int) else None


def page_items(body: Any) -> list[Any] | None:
    """``_data`` of a v2 list response, or None when the body is not one."""
    if isinstance(body, Mapping) and isinstance(body.get("_data"), list):
        return body["_data"]
    return None


def next_link(body: Any) -> str | None:
    """``_meta.links.next.href``: the only place v2 puts the next cursor."""
    try:
        href = body["_meta"]["links"]["next"]["href"]
    except (KeyError, TypeError):
        return None
    return href if isinstance(href, str) and href else None
