"""The one retry mechanism on its own: what it repeats, when it stops, how long it waits, when the breaker trips."""

from __future__ import annotations

import pytest

from personio_operator.retrying import (
    Breaker,
    Budget,
    GaveUp,
    RetryableFailure,
    RetryEvent,
    RetryPolicy,
    StopReason,
    call_with_retries,
)

QUICK = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.04, jitter=0.25, retry_after_max=1.0)


class Flaky:
    """Fails ``failures`` times with ``failure``, then returns "done"; counts its calls."""

    def __init__(self, failures: int, failure: Exception) -> None:
        self.failures = failures
        self.failure = failure
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.failure
        return "done"


def test_waits_double_up_to_the_maximum_and_jitter_only_adds():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=3.0, jitter=0.25)
    for failures, base in enumerate([0.5, 1.0, 2.0, 3.0, 3.0], start=1):
        waits = [policy.wait(failures) for _ in range(200)]
        assert base <= min(waits) and max(waits) <= base * 1.25
    # With 25 % jitter a doubled wait is always longer than the one before it: the waits grow.
    assert policy.backoff(2) > policy.backoff(1) * 1.25
    assert all(policy.wait(1, asked=7.0) >= 7.0 for _ in range(50))


async def test_a_failure_that_passes_is_retried_and_reported_before_each_wait():
    events: list[RetryEvent] = []
    flaky = Flaky(2, RetryableFailure("HTTP 503", status=503))
    assert await call_with_retries(flaky, policy=QUICK, on_retry=events.append) == "done"
    assert flaky.calls == 3
    assert [(e.attempt, e.max_attempts, e.failure.status) for e in events] == [(1, 4, 503), (2, 4, 503)]


async def test_the_attempt_cap_stops_it_with_the_last_failure():
    flaky = Flaky(100, RetryableFailure("HTTP 500", status=500))
    with pytest.raises(GaveUp) as gave_up:
        await call_with_retries(flaky, policy=QUICK)
    assert flaky.calls == QUICK.max_attempts
    assert gave_up.value.reason is StopReason.ATTEMPTS and gave_up.value.failure.status == 500
    assert "after 4 attempts" in str(gave_up.value)


async def test_other_errors_are_not_retried():
    flaky = Flaky(100, ValueError("will not change"))
    with pytest.raises(ValueError, match="will not change"):
        await call_with_retries(flaky, policy=QUICK)
    assert flaky.calls == 1


async def test_a_longer_retry_after_than_allowed_is_not_waited_for():
    flaky = Flaky(100, RetryableFailure("HTTP 429", status=429, asked=3600))
    with pytest.raises(GaveUp) as gave_up:
        await call_with_retries(flaky, policy=QUICK)
    assert flaky.calls == 1 and gave_up.value.reason is StopReason.RETRY_AFTER
    assert "asked to wait 3600 s" in str(gave_up.value)


async def test_a_wait_that_would_overrun_the_budget_is_not_started():
    flaky = Flaky(100, RetryableFailure("HTTP 429", status=429, asked=0.5))
    with pytest.raises(GaveUp) as gave_up:
        await call_with_retries(flaky, policy=QUICK, budget=Budget(0.3))
    assert flaky.calls == 1 and gave_up.value.reason is StopReason.BUDGET
    assert "time budget of 0.3 s" in str(gave_up.value)


def test_the_breaker_trips_when_half_of_the_window_failed_and_stays_tripped():
    breaker = Breaker(threshold=3, window=6)
    outcomes = [True, False, True, False, False, False, False, True, False]  # never 3 failures in 6
    assert not any(breaker.record(failed=failed) for failed in outcomes)
    assert not breaker.record(failed=True)  # 2 in the last 6
    assert breaker.record(failed=True)  # 3 in the last 6
    assert breaker.record(failed=False) and breaker.tripped


def test_policies_that_cannot_work_are_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        Breaker(threshold=5, window=4)
