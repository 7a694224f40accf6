"""The CEL rules of the CRD, evaluated with cel-python as the API server evaluates them, agree with
the pydantic models, and never admit a schedule the operator cannot parse."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from personio_operator.api.rules import CRON_PATTERN, THRESHOLD_PATTERN, TIME_ZONE_PATTERN, cron_rule, threshold_rule
from personio_operator.api.spec import PersonioIntegrationSpec
from tests.crd.apiserver import admit, cel_errors
from tests.crd.objects import minimal_integration


def _api_server_accepts(schema: dict[str, Any], **spec: Any) -> bool:
    _, errors = admit(schema, minimal_integration(**spec))
    return not errors


def _model_accepts(**spec: Any) -> bool:
    try:
        PersonioIntegrationSpec.model_validate(minimal_integration(**spec)["spec"])
    except ValidationError:
        return False
    return True


GOOD_SCHEDULES = ["0 4 * * *", "*/15 8-18 * * mon-fri", "@daily", "0 0 1 jan,jul *", "30 2 * * 0", "0 4 * * SUN"]
BAD_SCHEDULES = ["", "daily", "0 4 * *", "61 * * * *", "0 24 * * *", "0 4 * * * *", "0 4 * * 8", "0 4 * * *; rm"]


@pytest.mark.parametrize("schedule", GOOD_SCHEDULES)
def test_valid_cron_is_accepted_everywhere(resource_schema: dict[str, Any], schedule: str) -> None:
    assert _api_server_accepts(resource_schema, schedule=schedule)
    assert _model_accepts(schedule=schedule)
    assert croniter.is_valid(schedule)


@pytest.mark.parametrize("schedule", BAD_SCHEDULES)
def test_invalid_cron_is_rejected_everywhere(resource_schema: dict[str, Any], schedule: str) -> None:
    _, errors = admit(resource_schema, minimal_integration(schedule=schedule))
    assert errors == [f".spec.schedule: {cron_rule()['message']}"]
    assert not _model_accepts(schedule=schedule)


GOOD_THRESHOLDS = ["10%", "25", 25, "0", 0, "100%", "0%"]
BAD_THRESHOLDS = ["110%", "ten", -1, "10 %", "%", "1.5", "-5"]


@pytest.mark.parametrize("threshold", GOOD_THRESHOLDS)
def test_percentage_or_count_is_accepted_everywhere(resource_schema: dict[str, Any], threshold: str | int) -> None:
    assert _api_server_accepts(resource_schema, safety={"maxDeactivations": threshold})
    assert _model_accepts(safety={"maxDeactivations": threshold})


@pytest.mark.parametrize("threshold", BAD_THRESHOLDS)
def test_anything_else_is_rejected_everywhere(resource_schema: dict[str, Any], threshold: str | int) -> None:
    _, errors = admit(resource_schema, minimal_integration(safety={"maxDeactivations": threshold}))
    assert errors == [f".spec.safety.maxDeactivations: {threshold_rule()['message']}"]
    assert not _model_accepts(safety={"maxDeactivations": threshold})


def test_unknown_language_is_rejected_by_the_schema(resource_schema: dict[str, Any]) -> None:
    assert _api_server_accepts(resource_schema, defaultLanguage="en")
    assert not _api_server_accepts(resource_schema, defaultLanguage="fr")
    assert not _model_accepts(defaultLanguage="fr")


def test_time_zone_shape_is_checked_and_every_real_zone_fits(resource_schema: dict[str, Any]) -> None:
    assert _api_server_accepts(resource_schema, timeZone="America/Argentina/Buenos_Aires")
    assert not _api_server_accepts(resource_schema, timeZone="Europe/Berlin; drop")
    assert not _api_server_accepts(resource_schema, timeZone="../etc/passwd")
    shape = re.compile(TIME_ZONE_PATTERN)
    misfits = [zone for zone in zoneinfo.available_timezones() if not shape.fullmatch(zone) or len(zone) > 64]
    assert misfits == []


def test_patterns_are_re2_compatible() -> None:
    # The API server runs CEL matches() with RE2: no look-around and no back-references.
    for pattern in (CRON_PATTERN, THRESHOLD_PATTERN, TIME_ZONE_PATTERN):
        assert not re.search(r"\(\?[=!<]|\\[1-9]", pattern), pattern


@settings(max_examples=300, deadline=None)
@given(st.from_regex(CRON_PATTERN, fullmatch=True))
def test_every_schedule_the_crd_admits_is_one_the_operator_can_run(schedule: str) -> None:
    assert croniter.is_valid(schedule), schedule


# cel-python's matches() is Python's re.search, where $ also matches before a final newline (RE2's
# does not), so the comparison keeps to text without newlines.
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789*/-, @adilyhoumnjfebsw\t%"), max_size=30))
def test_cel_and_pydantic_agree_on_schedules(schedule: str) -> None:
    spec_schema = {"type": "string", "x-kubernetes-validations": [cron_rule()]}
    assert (cel_errors(spec_schema, schedule) == []) == _model_accepts(schedule=schedule), schedule


# The model trims surrounding whitespace before checking (" 10%" passes the CLI); the API server does
# not, so the comparison keeps to text without whitespace.
@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(min_value=-1000, max_value=1000), st.text(alphabet="0123456789%-.+", max_size=6)))
def test_cel_and_pydantic_agree_on_thresholds(threshold: int | str) -> None:
    node = {"x-kubernetes-int-or-string": True, "x-kubernetes-validations": [threshold_rule()]}
    assert (cel_errors(node, threshold) == []) == _model_accepts(safety={"maxDeactivations": threshold}), threshold
