"""Who gets an account and whether it is active (the sync rules).

Internal employees are always in scope; external staff only with ``rules.includeExternal``.
Status policy: onboarding and active -> active account; leave -> active unless
``rules.onLeave: Deactivate``; inactive -> deactivated. A person whose status or employment
type cannot be read is *held*: their account is left exactly as it is, never deactivated on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from personio_operator.api.spec import LeavePolicy, Rules
from personio_operator.personio.models import Employee, EmploymentStatus, EmploymentType


class Decision(StrEnum):
    ACTIVE = "active"  # gets an active account
    INACTIVE = "inactive"  # has no active account: an existing one is deactivated
    HOLD = "hold"  # data is unusable for a decision: leave the account untouched


@dataclass(frozen=True)
class ScopeDecision:
    decision: Decision
    reason: str  # why, in words for the plan and the report


_ACTIVE_STATUSES = {EmploymentStatus.ONBOARDING, EmploymentStatus.ACTIVE}


def scope_of(employee: Employee, rules: Rules) -> ScopeDecision:
    """Apply the scope rules and the status policy to one person."""
    employment = _employment_scope(employee, rules)
    if employment is not None:
        return employment
    return _status_policy(employee, rules)


def _employment_scope(employee: Employee, rules: Rules) -> ScopeDecision | None:
    kind = employee.employment_type
    if kind is EmploymentType.INTERNAL:
        return None
    if kind is EmploymentType.EXTERNAL:
        if rules.include_external:
            return None
        return ScopeDecision(Decision.INACTIVE, "out of scope (external; rules.includeExternal is off)")
    if rules.include_external:
        return None  # internal and external are both in scope, so the unknown type does not matter
    shown = "missing" if kind is None else "not internal or external"
    return ScopeDecision(
        Decision.HOLD,
        f"employment type is {shown} in Personio; set it to internal or external to sync this person",
    )


def _status_policy(employee: Employee, rules: Rules) -> ScopeDecision:
    status = employee.status
    if status in _ACTIVE_STATUSES:
        return ScopeDecision(Decision.ACTIVE, f"{status} in Personio")
    if status is EmploymentStatus.LEAVE:
        if rules.on_leave is LeavePolicy.DEACTIVATE:
            return ScopeDecision(Decision.INACTIVE, "on leave in Personio (rules.onLeave: Deactivate)")
        return ScopeDecision(Decision.ACTIVE, "on leave in Personio (rules.onLeave: Active)")
    if status is EmploymentStatus.INACTIVE:
        return ScopeDecision(Decision.INACTIVE, "inactive in Personio")
    shown = "missing" if status is None else "unknown"
    return ScopeDecision(
        Decision.HOLD, f"employment status is {shown} in Personio; the account is left as it is until it is set"
    )
