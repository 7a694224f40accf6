"""Faults over real HTTP: expired tokens, 429 storms, 5xx, slow answers, broken paging, budgets."""

from __future__ import annotations

import asyncio
import time

import pytest

from personio_operator.errors import ErrorKind
from personio_operator.personio.errors import PersonioUnavailableError
from personio_testkit.personio_sandbox import SandboxConfig, SandboxServer, generate_company
from personio_testkit.personio_sandbox.config import RateLimitRule, default_rate_limits
from tests.personio_client.helpers import FAST, fetch

NO_LIMITS = SandboxConfig(rate_limits=False)
EMPLOYMENTS = "GET /v2/persons/{person_id}/employments"


async def _wait_for(condition, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_token_expiring_mid_fetch_is_renewed_once(version):
    company = generate_company(employees=250, seed=7)
    list_path = "/v2/persons" if version == "v2" else "/v1/company/employees"
    list_endpoint = f"GET {list_path}"
    with SandboxServer(company, NO_LIMITS) as sandbox:
        expected = await fetch(sandbox, version)
        sandbox.stats.reset()
        # Hold the second list page so the clock can jump past the token's lifetime mid-walk.
        sandbox.faults.add(list_path, path_suffix=list_path, delay_seconds=0.3, every=2, times=1)
        task = asyncio.create_task(fetch(sandbox, version))
        await _wait_for(lambda: sandbox.stats[list_endpoint] >= 2)
        sandbox.clock.advance(86_400 + 60)
        result = await task
        calls = sandbox.stats.calls
        statuses = sandbox.stats.statuses

    assert result.employees == expected.employees and result.complete
    auth = "POST /v2/auth/token" if version == "v2" else "POST /v1/auth"
    assert calls[auth] == 2
    assert statuses.get(401 if version == "v2" else 403, 0) >= 1  # v1 answers 403 to an invalid token


async def test_429_storm_with_small_buckets_is_survived():
    rules = default_rate_limits() | {
        "v2_persons": RateLimitRule(replenish_rate=40, burst_capacity=3),
        "v2_employments": RateLimitRule(replenish_rate=60, burst_capacity=4),
        "v2_org_units": RateLimitRule(replenish_rate=40, burst_capacity=2),
    }
    company = generate_company(employees=80, seed=4)
    with SandboxServer(company, NO_LIMITS) as unlimited:
        expected = await fetch(unlimited, "v2")
    with SandboxServer(company, SandboxConfig(rate_limit_rules=rules)) as sandbox:
        # On top of the buckets: a burst of bare 429s (no rate-limit headers) on the employments.
        sandbox.faults.add("/v2/persons/", path_suffix="/employments", status=429, times=12)
        result = await fetch(sandbox, "v2")
        throttled = sandbox.stats.rate_limited
        calls = sandbox.stats.calls
    assert result.employees == expected.employees and result.complete
    assert throttled >= 12
    # Pacing by the x-ratelimit headers keeps the bucket 429s rare: far fewer than one per call.
    assert throttled - 12 < calls[EMPLOYMENTS] // 4


async def test_v1_rate_limits_are_respected():
    rules = default_rate_limits() | {
        "v1_employees_burst": RateLimitRule(replenish_rate=50, burst_capacity=2),
    }
    company = generate_company(employees=450, seed=4)
    with SandboxServer(company, SandboxConfig(rate_limit_rules=rules)) as sandbox:
        result = await fetch(sandbox, "v1")
    assert len(result.employees) == 450 and result.complete


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_transient_5xx_are_retried(version):
    company = generate_company(employees=120, seed=8)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        expected = await fetch(sandbox, version)
        # Four failures in a row on the list (one short of the attempt cap), one on the token request.
        prefix = "/v2/persons" if version == "v2" else "/v1/company"
        sandbox.faults.add(prefix, status=500, times=2)
        sandbox.faults.add(prefix, status=502, times=1)
        sandbox.faults.add(prefix, status=504, times=1)
        auth = "/v2/auth" if version == "v2" else "/v1/auth"
        sandbox.faults.add(auth, status=503, times=1)
        result = await fetch(sandbox, version)
        statuses = sandbox.stats.statuses
    assert result.employees == expected.employees and result.complete
    assert sum(statuses.get(s, 0) for s in (500, 502, 503, 504)) == 5


async def test_intermittent_404_on_employments_is_retried():
    company = generate_company(employees=60, seed=8)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        expected = await fetch(sandbox, "v2")
        sandbox.faults.intermittent_404(every=3, times=10)
        result = await fetch(sandbox, "v2")
        not_found = sandbox.stats.statuses.get(404, 0)
    assert result.employees == expected.employees
    assert not_found == 10


async def test_slow_answers_time_out_and_are_retried():
    company = generate_company(employees=30, seed=8)
    policy = FAST.__class__(**{**FAST.__dict__, "read_timeout": 0.2})
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.add("/v2/persons", path_suffix="/v2/persons", delay_seconds=1.0, times=1)
        result = await fetch(sandbox, "v2", policy=policy)
    assert len(result.employees) == 30 and result.complete


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_a_request_that_keeps_failing_stops_at_the_attempt_cap(version):
    company = generate_company(employees=120, seed=8)
    list_path = "/v2/persons" if version == "v2" else "/v1/company/employees"
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.add(list_path, path_suffix=list_path, status=503, times=None)
        with pytest.raises(PersonioUnavailableError) as caught:
            await fetch(sandbox, version, budget_seconds=600)
        sent = sandbox.stats[f"GET {list_path}"]
    error = caught.value
    assert error.kind is ErrorKind.TRANSIENT
    assert sent == FAST.max_attempts
    assert "503" in str(error) and f"after {FAST.max_attempts} attempts" in str(error) and list_path in str(error)


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_a_wait_that_would_overrun_the_budget_is_not_started(version):
    company = generate_company(employees=120, seed=8)
    list_path = "/v2/persons" if version == "v2" else "/v1/company/employees"
    slow_backoff = FAST.__class__(**{**FAST.__dict__, "backoff_base": 0.8, "backoff_max": 5.0})
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.add(list_path, path_suffix=list_path, status=503, times=None)
        with pytest.raises(PersonioUnavailableError) as caught:
            await fetch(sandbox, version, budget_seconds=2.0, policy=slow_backoff)
        sent = sandbox.stats[f"GET {list_path}"]
    error = caught.value
    # The first wait (0.8-0.96 s) fits into the 2 s budget; the second (1.6-1.92 s) no longer does.
    assert sent == 2
    assert "503" in str(error) and "time budget of 2 s" in str(error) and list_path in str(error)


async def test_a_fetch_slower_than_its_budget_fails_rather_than_returning_part():
    company = generate_company(employees=60, seed=8)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.add("/v2/persons/", path_suffix="/employments", delay_seconds=0.5, every=10, times=None)
        with pytest.raises(PersonioUnavailableError, match=r"time budget of 0\.3 s"):
            await fetch(sandbox, "v2", budget_seconds=0.3)


async def test_employments_that_stay_404_fail_the_fetch():
    company = generate_company(employees=20, seed=8)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.add("/v2/persons/1005/employments", status=404, times=None)
        with pytest.raises(PersonioUnavailableError, match="person 1005"):
            await fetch(sandbox, "v2")


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_a_record_repeated_across_pages_is_collapsed(version):
    company = generate_company(employees=120, seed=6)
    list_path = "/v2/persons" if version == "v2" else "/v1/company/employees"
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.duplicate_record(list_path, page_index=1)
        result = await fetch(sandbox, version)
        calls = sandbox.stats.calls
    assert result.duplicates_collapsed == 1
    assert sorted(e.id for e in result.employees) == sorted(str(p.id) for p in company.persons())
    if version == "v2":
        assert calls[EMPLOYMENTS] == 120  # the duplicate costs no second employments call


async def test_a_repeated_cursor_stops_paging_and_marks_the_fetch_incomplete():
    company = generate_company(employees=160, seed=6)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.repeat_cursor("/v2/persons", page_index=1, times=None)
        result = await asyncio.wait_for(fetch(sandbox, "v2"), timeout=20)
    assert not result.all_pages_read and not result.complete
    assert any("repeated a persons cursor" in w for w in result.warnings)


async def test_a_v1_page_lost_mid_walk_marks_the_fetch_incomplete():
    company = generate_company(employees=250, seed=6)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.drop_page("/v1/company/employees", page_index=1, keep=10)
        result = await fetch(sandbox, "v1")
    assert not result.all_pages_read
    assert any("only 110 different people" in w for w in result.warnings)


async def test_a_v1_page_that_repeats_one_record_and_loses_another_marks_the_fetch_incomplete():
    # What offset paging does when the list shifts mid-walk: the page stays full and the total stays
    # right, but one person is read twice and another never. Counting records would call that complete.
    company = generate_company(employees=250, seed=6)
    with SandboxServer(company, NO_LIMITS) as sandbox:
        sandbox.faults.drop_page("/v1/company/employees", page_index=1, keep=99)
        sandbox.faults.duplicate_record("/v1/company/employees", page_index=1)
        result = await fetch(sandbox, "v1")
    assert result.duplicates_collapsed == 1
    assert len(result.employees) == 249
    assert not result.all_pages_read and not result.complete
    assert any("249 different people" in w for w in result.warnings)
