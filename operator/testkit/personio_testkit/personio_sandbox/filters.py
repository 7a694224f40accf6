"""Strict parsing of v2 list query parameters into filters (and back, for cursors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personio_testkit.personio_sandbox.models import Employment, Person
from personio_testkit.personio_sandbox.responses import bad_parameters

FILTER_ENCODING_INVALID = "Provided filter encoding is invalid."
OPERATORS = ("gt", "lt")


@dataclass(frozen=True)
class ListQuery:
    limit: int | None
    cursor: str | None
    filters: dict[str, Any]  # canonical, JSON-safe: {"id": [...], "updated_at.gt": "iso", ...}


def parse_list_query(
    items: list[tuple[str, str]],
    *,
    list_filters: tuple[str, ...],
    text_filters: tuple[str, ...] = (),
    time_filters: tuple[str, ...] = (),
    enum_filters: dict[str, tuple[str, ...]] | None = None,
    max_limit: int,
) -> ListQuery:
    """Validate every parameter; unknown names, repeated names and bad values are a 400."""
    enum_filters = enum_filters or {}
    known = {"limit", "cursor", *list_filters, *text_filters, *time_filters, *enum_filters}
    known |= {f"{name}.{op}" for name in time_filters for op in OPERATORS}
    seen: set[str] = set()
    limit: int | None = None
    cursor: str | None = None
    filters: dict[str, Any] = {}
    for name, value in items:
        if name not in known:
            base = name.split(".", 1)[0]
            if "." in name and base in {*list_filters, *text_filters, *time_filters, *enum_filters}:
                raise bad_parameters(FILTER_ENCODING_INVALID, parameter=name)
            raise bad_parameters(parameter=name)
        if name in seen:
            raise bad_parameters(parameter=name)
        seen.add(name)
        if name == "limit":
            limit = _limit(value, max_limit)
        elif name == "cursor":
            cursor = value
        elif name in list_filters:
            values = [v.strip() for v in value.split(",")]
            if not all(values):
                raise bad_parameters(parameter=name)
            filters[name] = values
        elif name in text_filters:
            if not value:
                raise bad_parameters(parameter=name)
            filters[name] = value
        elif name in enum_filters:
            if value not in enum_filters[name]:
                raise bad_parameters(parameter=name)
            filters[name] = value
        else:
            filters[name] = parse_timestamp(value, name).isoformat()
    return ListQuery(limit=limit, cursor=cursor, filters=filters)


def _limit(value: str, max_limit: int) -> int:
    try:
        limit = int(value)
    except ValueError:
        raise bad_parameters(parameter="limit") from None
    if not 1 <= limit <= max_limit:
        raise bad_parameters(parameter="limit")
    return limit


def parse_timestamp(value: str, name: str) -> datetime:
    """ISO 8601 date-time with a zone (``2023-01-01T12:00:00Z``); anything else is a 400."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad_parameters(parameter=name) from None
    if "T" not in value or moment.tzinfo is None:
        raise bad_parameters(parameter=name)
    return moment


def _time_matches(moment: datetime, filters: dict[str, Any], name: str) -> bool:
    moment = moment.replace(microsecond=0)
    exact, after, before = (filters.get(k) for k in (name, f"{name}.gt", f"{name}.lt"))
    if exact is not None and moment != datetime.fromisoformat(exact):
        return False
    if after is not None and not moment > datetime.fromisoformat(after):
        return False
    return before is None or moment < datetime.fromisoformat(before)


def person_matches(person: Person, filters: dict[str, Any]) -> bool:
    if not filters:
        return True
    if "id" in filters and str(person.id) not in filters["id"]:
        return False
    if "email" in filters:
        emails = {e.casefold() for e in filters["email"]}
        if not person.email or person.email.casefold() not in emails:
            return False
    for name in ("first_name", "last_name", "preferred_name"):
        wanted = filters.get(name)
        if wanted is not None and (getattr(person, name) or "").casefold() != wanted.casefold():
            return False
    if "status" in filters and person.status != filters["status"]:
        return False
    return _time_matches(person.created_at, filters, "created_at") and _time_matches(
        person.updated_at, filters, "updated_at"
    )


def employment_matches(employment: Employment, filters: dict[str, Any]) -> bool:
    if "id" in filters and employment.id not in filters["id"]:
        return False
    return _time_matches(employment.updated_at, filters, "updated_at")
