"""Builders for desired and current states used by the target tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from personio_operator.scim.models import DesiredGroup, DesiredUser, ScimGroup, ScimUser, group_external_id


def desired_user(person_id: int, **overrides: Any) -> DesiredUser:
    values: dict[str, Any] = {
        "external_id": f"personio:{person_id}",
        "user_name": f"person{person_id}@acme.example",
        "given_name": f"Given{person_id}",
        "family_name": f"Family{person_id}",
        "email": f"person{person_id}@acme.example",
        "title": f"Title {person_id}",
        "user_type": "Internal",
        "preferred_language": "de",
        "employee_number": str(person_id),
        "department": "Engineering",
    }
    values.update(overrides)
    return DesiredUser(**values)


def scim_user_for(desired: DesiredUser, scim_id: str, **overrides: Any) -> ScimUser:
    """The app user that exactly matches ``desired``."""
    values: dict[str, Any] = {
        "id": scim_id,
        "user_name": desired.user_name,
        "external_id": desired.external_id,
        "active": desired.active,
        "given_name": desired.given_name,
        "family_name": desired.family_name,
        "email": desired.email,
        "title": desired.title,
        "user_type": desired.user_type,
        "preferred_language": desired.preferred_language,
        "employee_number": desired.employee_number,
        "department": desired.department,
    }
    values.update(overrides)
    return ScimUser(**values)


def desired_group(kind: str, source_id: str, name: str, members: list[int]) -> DesiredGroup:
    return DesiredGroup(
        external_id=group_external_id(kind, source_id),
        display_name=name,
        member_external_ids=frozenset(f"personio:{member}" for member in members),
    )


def scim_group(scim_id: str, name: str, external_id: str | None, member_ids: list[str]) -> ScimGroup:
    return ScimGroup(id=scim_id, display_name=name, external_id=external_id, member_ids=frozenset(member_ids))


async def eventually(condition: Callable[[], bool], *, within: float = 5.0, message: str = "condition") -> None:
    """Poll ``condition`` until it holds or the deadline passes (for answers a stalled server still owes)."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} did not hold within {within}s")
        await asyncio.sleep(0.02)
