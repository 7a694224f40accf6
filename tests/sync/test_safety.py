import pytest

from personio_operator.errors import ConfigurationError, ErrorKind, SafetyError
from personio_operator.personio.models import Attribute, FetchResult
from personio_operator.scim.plan import TargetPlan, UserAction, UserOp
from personio_operator.sync.safety import allowed_deactivations, check_deactivations, check_fetch, check_not_empty
from tests.sync.factories import make_spec, person


def plan_with(deactivations: int, managed_before: int) -> TargetPlan:
    ops = [
        UserOp(
            action=UserAction.DEACTIVATE, external_id=f"personio:{i}", user_name=f"u{i}@acme.example", user_id=str(i)
        )
        for i in range(deactivations)
    ]
    ops.append(UserOp(action=UserAction.CREATE, external_id="personio:new", user_name="new@acme.example"))
    return TargetPlan(users=ops, managed_users_before=managed_before)


@pytest.mark.parametrize(
    ("threshold", "managed", "allowed"),
    [
        ("10%", 100, 10),
        ("10%", 109, 10),  # rounded down
        ("10%", 5, 1),  # but at least one
        ("10%", 0, 1),
        ("0%", 100, 0),
        ("100%", 7, 7),
        ("25", 3, 25),
        ("0", 100, 0),
    ],
)
def test_allowed_deactivations(threshold, managed, allowed) -> None:
    assert allowed_deactivations(threshold, managed) == allowed


def test_at_the_limit_passes_above_it_fails_with_what_to_do() -> None:
    spec = make_spec(safety={"maxDeactivations": "10%"})
    check_deactivations(plan_with(5, 50), spec)
    with pytest.raises(SafetyError) as caught:
        check_deactivations(plan_with(6, 50), spec)
    message = str(caught.value)
    assert "would deactivate 6 users" in message
    assert "10% of 50 managed users = 5" in message
    assert "nothing was changed" in message
    assert "raise safety.maxDeactivations" in message
    assert "u0@acme.example" in message and "and 1 more" in message
    assert caught.value.kind is ErrorKind.SAFETY


def test_count_threshold() -> None:
    spec = make_spec(safety={"maxDeactivations": 2})
    check_deactivations(plan_with(2, 1000), spec)
    with pytest.raises(SafetyError, match=r"allows \(2\)"):
        check_deactivations(plan_with(3, 1000), spec)


def test_partial_fetch_fails() -> None:
    result = FetchResult(api_version="v2", employees=[person("1")], pages_read=3, all_pages_read=False)
    with pytest.raises(SafetyError, match=r"incomplete.*3 page"):
        check_fetch(result, make_spec())


def test_missing_required_attribute_names_it_and_where_to_allow_it() -> None:
    result = FetchResult(api_version="v2", employees=[person("1")], missing_attributes=[Attribute.EMPLOYMENT_TYPE])
    with pytest.raises(ConfigurationError, match=r"Employment type \(required\).*API credentials"):
        check_fetch(result, make_spec())


def test_missing_attribute_of_an_enabled_setting_fails_and_names_the_setting() -> None:
    result = FetchResult(api_version="v2", employees=[person("1")], missing_attributes=[Attribute.DEPARTMENT])
    with pytest.raises(ConfigurationError, match=r"Department \(teams\.department\)"):
        check_fetch(result, make_spec(teams={"department": True}))
    check_fetch(result, make_spec())  # without department teams it is only an enrichment


def test_missing_job_title_only_matters_with_users_job_title() -> None:
    result = FetchResult(api_version="v2", employees=[person("1")], missing_attributes=[Attribute.POSITION])
    with pytest.raises(ConfigurationError, match=r"users\.jobTitle"):
        check_fetch(result, make_spec())
    check_fetch(result, make_spec(users={"jobTitle": False}))


def test_empty_answer_with_managed_users_fails() -> None:
    empty = FetchResult(api_version="v2", employees=[])
    check_not_empty(empty, 0)
    with pytest.raises(SafetyError, match="no employees at all"):
        check_not_empty(empty, 3)
