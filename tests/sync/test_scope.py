import pytest

from personio_operator.api.spec import LeavePolicy, Rules
from personio_operator.personio.models import EmploymentStatus, EmploymentType
from personio_operator.sync.scope import Decision, scope_of
from tests.sync.factories import person

S = EmploymentStatus
T = EmploymentType


@pytest.mark.parametrize(
    ("status", "kind", "include_external", "on_leave", "expected"),
    [
        (S.ACTIVE, T.INTERNAL, False, LeavePolicy.ACTIVE, Decision.ACTIVE),
        (S.ONBOARDING, T.INTERNAL, False, LeavePolicy.ACTIVE, Decision.ACTIVE),
        (S.LEAVE, T.INTERNAL, False, LeavePolicy.ACTIVE, Decision.ACTIVE),
        (S.LEAVE, T.INTERNAL, False, LeavePolicy.DEACTIVATE, Decision.INACTIVE),
        (S.INACTIVE, T.INTERNAL, False, LeavePolicy.ACTIVE, Decision.INACTIVE),
        (S.ACTIVE, T.EXTERNAL, False, LeavePolicy.ACTIVE, Decision.INACTIVE),
        (S.ACTIVE, T.EXTERNAL, True, LeavePolicy.ACTIVE, Decision.ACTIVE),
        (S.INACTIVE, T.EXTERNAL, True, LeavePolicy.ACTIVE, Decision.INACTIVE),
        (S.UNKNOWN, T.INTERNAL, False, LeavePolicy.ACTIVE, Decision.HOLD),
        (None, T.INTERNAL, False, LeavePolicy.ACTIVE, Decision.HOLD),
        (S.ACTIVE, T.UNKNOWN, False, LeavePolicy.ACTIVE, Decision.HOLD),
        (S.ACTIVE, None, False, LeavePolicy.ACTIVE, Decision.HOLD),
        # With externals included, an unreadable employment type no longer matters.
        (S.ACTIVE, T.UNKNOWN, True, LeavePolicy.ACTIVE, Decision.ACTIVE),
    ],
)
def test_scope_and_status_policy(status, kind, include_external, on_leave, expected) -> None:
    rules = Rules(include_external=include_external, on_leave=on_leave)
    assert scope_of(person("1", status=status, kind=kind), rules).decision is expected


def test_reasons_say_why() -> None:
    assert "includeExternal" in scope_of(person("1", kind=T.EXTERNAL), Rules()).reason
    assert scope_of(person("1", status=S.INACTIVE), Rules()).reason == "inactive in Personio"
    assert "employment status is missing" in scope_of(person("1", status=None), Rules()).reason
