"""The one way the operator repeats a failed request, for the Personio, SCIM and Kubernetes clients.

A client says *what* failed: its attempt raises ``RetryableFailure`` for an answer worth repeating
(429, 5xx, a timeout) and anything else for an answer that will not change. This module decides
*whether and when* to try again (tenacity runs the loop):

- at most ``max_attempts`` attempts per call; a call is one request, or one object's whole
  look-up-then-post loop, so an object never costs more than that many writes;
- between attempts ``backoff_base * 2**(n-1)`` seconds (at most ``backoff_max``) plus up to
  ``jitter`` of it at random: the waits grow, and concurrent callers spread out;
- a wait the server asked for (``Retry-After``, a rate-limit hint) replaces the backoff, plus the
  same jitter, so it is never shorter than asked; one longer than ``retry_after_max`` is not waited
  for at all;
- a wait that would end after the ``Budget`` (the run's time for one side) is not started.

When it stops, ``GaveUp`` says why (``StopReason``) and carries the last failure; each client turns
that into its own error. ``Breaker`` is the run-level bound: a client that sees most of its recent
calls give up stops the run instead of working through every remaining object.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 0.5  # seconds before the second attempt; doubles for each further one
    backoff_max: float = 30.0
    jitter: float = 0.25  # up to this share of a wait is added at random
    retry_after_max: float = 120.0  # a server that asks for a longer wait is not waited for

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.backoff_base, self.backoff_max, self.jitter, self.retry_after_max) < 0:
            raise ValueError("waits and jitter must not be negative")

    def backoff(self, failures: int) -> float:
        """The wait after the ``failures``-th failed attempt, before jitter."""
        return min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))

    def wait(self, failures: int, asked: float | None = None) -> float:
        """The wait before the next attempt: the server's ``asked`` wait if it gave one, else the backoff."""
        base = self.backoff(failures) if asked is None else asked
        return base * (1 + random.uniform(0, self.jitter))


class Budget:
    """The run's time for one side (Personio, the app): a wait that would overrun it is not started."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._deadline - self._clock())

    def allows(self, wait_seconds: float) -> bool:
        return wait_seconds < self.remaining()


class RetryableFailure(Exception):
    """One attempt failed in a way that may pass: raised inside an attempt to ask for another.

    ``problem``: safe text, e.g. "HTTP 503 on GET /Users". ``asked``: the wait the server asked for.
    ``unclear``: a write that may have been applied (timeout, 5xx): look before repeating it.
    ``error``: the client's own exception for this failure, to raise if the client prefers it.
    """

    def __init__(
        self,
        problem: str,
        *,
        status: int | None = None,
        asked: float | None = None,
        unclear: bool = False,
        error: Exception | None = None,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status = status
        self.asked = asked
        self.unclear = unclear
        self.error = error


class StopReason(StrEnum):
    ATTEMPTS = "attempts"  # the cap on attempts is reached: this call failed
    RETRY_AFTER = "retry_after"  # the server asked for a longer wait than retry_after_max
    BUDGET = "budget"  # the next wait would overrun the run's time budget


@dataclass(frozen=True)
class RetryEvent:
    """Handed to ``on_retry`` before each wait."""

    attempt: int  # the attempt that just failed, 1-based
    max_attempts: int
    wait: float
    failure: RetryableFailure


class GaveUp(Exception):
    """The call is not tried again; ``failure`` is its last failure."""

    def __init__(
        self,
        reason: StopReason,
        failure: RetryableFailure,
        *,
        attempts: int,
        elapsed: float,
        next_wait: float = 0.0,
        retry_after_max: float = 0.0,
        budget_seconds: float = 0.0,
    ) -> None:
        self.reason = reason
        self.failure = failure
        self.attempts = attempts
        self.elapsed = elapsed
        self.next_wait = next_wait
        self.retry_after_max = retry_after_max
        self.budget_seconds = budget_seconds
        super().__init__(f"{failure.problem} {self.describe()}")

    def describe(self) -> str:
        """Why it stopped, in words that fit after the problem: "HTTP 503 on GET /x <describe>"."""
        attempts = f"{self.attempts} attempt{'' if self.attempts == 1 else 's'} over {self.elapsed:.1f} s"
        if self.reason is StopReason.RETRY_AFTER:
            return (
                f"after {attempts}; it asked to wait {self.failure.asked or 0:.0f} s, longer than the "
                f"{self.retry_after_max:.0f} s a request may wait"
            )
        if self.reason is StopReason.BUDGET:
            return (
                f"after {attempts}; waiting {self.next_wait:.1f} s more would overrun the run's time budget "
                f"of {self.budget_seconds:g} s"
            )
        return f"after {attempts}"


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    budget: Budget | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
) -> T:
    """Await ``attempt()`` until it returns, raises something other than ``RetryableFailure``, or the
    policy stops (``GaveUp``)."""
    stopped: list[StopReason] = []

    def failure_of(state: RetryCallState) -> RetryableFailure:
        assert state.outcome is not None
        failure = state.outcome.exception()
        assert isinstance(failure, RetryableFailure)
        return failure

    def wait(state: RetryCallState) -> float:
        return policy.wait(state.attempt_number, failure_of(state).asked)

    def stop(state: RetryCallState) -> bool:
        failure = failure_of(state)
        if failure.asked is not None and failure.asked > policy.retry_after_max:
            stopped.append(StopReason.RETRY_AFTER)
        elif state.attempt_number >= policy.max_attempts:
            stopped.append(StopReason.ATTEMPTS)
        elif budget is not None and not budget.allows(state.upcoming_sleep):
            stopped.append(StopReason.BUDGET)
        return bool(stopped)

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None:
            on_retry(RetryEvent(state.attempt_number, policy.max_attempts, state.upcoming_sleep, failure_of(state)))

    def give_up(state: RetryCallState) -> None:
        failure = failure_of(state)
        raise GaveUp(
            stopped[-1],
            failure,
            attempts=state.attempt_number,
            elapsed=state.seconds_since_start or 0.0,
            next_wait=state.upcoming_sleep,
            retry_after_max=policy.retry_after_max,
            budget_seconds=budget.seconds if budget is not None else 0.0,
        ) from failure

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(RetryableFailure),
        wait=wait,
        stop=stop,
        before_sleep=before_sleep,
        retry_error_callback=give_up,
    )
    return await retrying(attempt)


class Breaker:
    """Remembers whether the last ``window`` calls of a run succeeded; trips once ``threshold`` of them
    gave up. A tripped breaker stays tripped for the rest of the run."""

    def __init__(self, *, threshold: int, window: int) -> None:
        if not 1 <= threshold <= window:
            raise ValueError("need 1 <= threshold <= window")
        self.threshold = threshold
        self.window = window
        self._outcomes: deque[bool] = deque(maxlen=window)
        self.tripped = False

    @property
    def failures(self) -> int:
        return sum(self._outcomes)

    @property
    def seen(self) -> int:
        return len(self._outcomes)

    def record(self, *, failed: bool) -> bool:
        """Count one call's outcome; True when the breaker is (now) tripped."""
        if not self.tripped:
            self._outcomes.append(failed)
            self.tripped = self.failures >= self.threshold
        return self.tripped
