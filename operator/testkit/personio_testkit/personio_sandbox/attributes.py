"""Which attribute keys exist, how v1 labels them, and which v2 fields each one unlocks.

The credential's whitelist is a set of v1 attribute keys. The ten domain attributes
(``personio.models.Attribute``) are v1 keys by value, so ``{Attribute.EMAIL, ...}`` works as a whitelist.
"""

from __future__ import annotations

from personio_operator.personio.models import Attribute

# v1 key -> (label, v1 type). Order = order in v1 responses.
V1_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "id": ("ID", "integer"),
    "first_name": ("First name", "standard"),
    "last_name": ("Last name", "standard"),
    "preferred_name": ("Name (preferred)", "standard"),
    "email": ("Email", "standard"),
    "gender": ("Gender", "standard"),
    "status": ("Status", "standard"),
    "position": ("Position", "standard"),
    "supervisor": ("Supervisor", "standard"),
    "employment_type": ("Employment type", "standard"),
    "weekly_working_hours": ("Weekly hours", "standard"),
    "hire_date": ("Hire date", "date"),
    "contract_end_date": ("Contract ends", "date"),
    "termination_date": ("Termination date", "date"),
    "termination_type": ("Termination type", "standard"),
    "termination_reason": ("Termination reason", "standard"),
    "probation_period_end": ("Probation period end", "date"),
    "created_at": ("created_at", "date"),
    "last_modified_at": ("Last modified", "date"),
    "subcompany": ("Subcompany", "standard"),
    "office": ("Workplace", "standard"),
    "department": ("Department", "standard"),
    "cost_centers": ("Cost center", "standard"),
    "team": ("Team", "standard"),
    "last_working_day": ("Last day of work", "date"),
    "profile_picture": ("Profile Picture", "standard"),
}

assert {a.value for a in Attribute} <= V1_ATTRIBUTES.keys(), "every domain attribute needs a v1 key"

# v2 Person fields unlocked by a v1 key ("id", "employments" and "_meta" are always present).
V2_PERSON_FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "preferred_name": ("preferred_name",),
    "email": ("email",),
    "gender": ("gender",),
    "status": ("status",),
    "created_at": ("created_at",),
    "last_modified_at": ("updated_at",),
    "profile_picture": ("profile_picture",),
}

# v2 Employment fields unlocked by a v1 key ("id", "person" and "_meta" are always present).
V2_EMPLOYMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "employment_type": ("type",),
    "position": ("position",),
    "supervisor": ("supervisor",),
    "office": ("office",),
    "department": ("org_units",),
    "team": ("org_units",),
    "weekly_working_hours": ("weekly_working_hours", "full_time_weekly_working_hours"),
    "hire_date": ("employment_start_date",),
    "contract_end_date": ("contract_end_date", "employment_end_date"),
    "probation_period_end": ("probation_end_date",),
    "termination_date": ("termination",),
    "termination_type": ("termination",),
    "termination_reason": ("termination",),
    "last_working_day": ("termination",),
    "subcompany": ("legal_entity",),
    "cost_centers": ("cost_centers",),
    "created_at": ("created_at",),
    "last_modified_at": ("updated_at",),
}


class Visibility:
    """Answers "may this credential read key X?" for one request."""

    def __init__(self, whitelist: set[str] | frozenset[str] | None, *, hide_termination: bool = False) -> None:
        self._whitelist = None if whitelist is None else {str(k) for k in whitelist}
        self._hide_termination = hide_termination

    def can_read(self, key: str) -> bool:
        if key == "id":
            return True
        if self._hide_termination and key.startswith(("termination_", "last_working_day")):
            return False
        return self._whitelist is None or key in self._whitelist

    def readable_keys(self, keys: list[str]) -> list[str]:
        return [k for k in keys if self.can_read(k)]
