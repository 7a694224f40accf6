"""Pure units: the client-side token bucket, next-link pinning, token cache sharing."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from personio_operator.http_retry import retry_after_seconds
from personio_operator.personio.auth import IssuedToken, TokenCache
from personio_operator.personio.http import Redactor
from personio_operator.personio.ratelimit import RateLimiter
from personio_operator.personio.v2 import _pinned


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _headers(rate: int, burst: int, remaining: int) -> dict[str, str]:
    return {
        "x-ratelimit-replenish-rate": str(rate),
        "x-ratelimit-burst-capacity": str(burst),
        "x-ratelimit-remaining": str(remaining),
    }


async def _slots_available_now(limiter: RateLimiter, tries: int) -> int:
    """How many requests the limiter lets through without waiting."""
    granted = 0
    for _ in range(tries):
        try:
            async with asyncio.timeout(0.01):
                async with limiter.slot():
                    granted += 1
        except TimeoutError:
            break
    return granted


async def test_limiter_probes_one_request_until_it_learns_the_bucket():
    limiter = RateLimiter(clock=ManualClock())
    entered = asyncio.Event()
    release = asyncio.Event()

    async def probe():
        async with limiter.slot():
            entered.set()
            await release.wait()
            limiter.observe(_headers(10, 5, 2), success=True)

    task = asyncio.create_task(probe())
    await entered.wait()
    assert await _slots_available_now(limiter, 1) == 0  # a second request waits for the probe
    release.set()
    await task
    assert limiter.replenish_rate == 10 and limiter.burst_capacity == 5
    assert await _slots_available_now(limiter, 10) == 2  # exactly what the server said remains


async def test_limiter_refills_at_the_reported_rate_and_holds_after_a_429():
    clock = ManualClock()
    limiter = RateLimiter(clock=clock)
    async with limiter.slot():
        limiter.observe(_headers(10, 5, 0), success=True)
    assert await _slots_available_now(limiter, 10) == 0
    clock.now += 0.35  # 3.5 tokens at 10/s
    assert await _slots_available_now(limiter, 10) == 3
    clock.now += 10  # capped at the burst capacity
    assert await _slots_available_now(limiter, 10) == 5
    clock.now += 1
    limiter.throttled(0.3)  # the server disagreed: nothing may go for 0.3 s, then the refill resumes from empty
    clock.now += 0.2
    assert await _slots_available_now(limiter, 10) == 0
    clock.now += 0.11
    assert await _slots_available_now(limiter, 10) == 3


async def test_limiter_without_headers_stays_out_of_the_way():
    limiter = RateLimiter(clock=ManualClock())
    async with limiter.slot():
        limiter.observe({}, success=True)
    assert await _slots_available_now(limiter, 50) == 50


async def test_an_error_without_headers_does_not_switch_pacing_off():
    limiter = RateLimiter(clock=ManualClock())
    async with limiter.slot():
        limiter.observe({}, success=False)
    async with limiter.slot():
        limiter.observe(_headers(10, 5, 1), success=True)
    assert await _slots_available_now(limiter, 5) == 1


def test_next_links_are_pinned_to_our_host_and_path():
    pinned = _pinned("https://evil.example/v2/employments?cursor=cur_7QkX2", "/v2/persons")
    assert pinned == "/v2/persons?cursor=cur_7QkX2&limit=50"
    assert _pinned("/v2/persons?cursor=a&limit=20", "/v2/persons") == "/v2/persons?cursor=a&limit=20"


def test_retry_after_accepts_seconds_and_dates():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


async def test_concurrent_renewals_share_one_token_request():
    issued: list[str] = []

    async def issue() -> IssuedToken:
        await asyncio.sleep(0.01)
        issued.append(f"token-{len(issued)}")
        return IssuedToken(SecretStr(issued[-1]), 3600)

    cache = TokenCache(issue)
    first = await asyncio.gather(*(cache.token() for _ in range(20)))
    assert set(first) == {"token-0"}
    renewed = await asyncio.gather(*(cache.renew("token-0") for _ in range(20)))
    assert set(renewed) == {"token-1"} and len(issued) == 2
    assert "token" not in repr(cache).replace("TokenCache(has_token", "")


def test_redactor_removes_known_secrets():
    redact = Redactor(["abc123"])
    redact.add("papi-xyz")
    assert redact("got abc123 and papi-xyz") == "got *** and ***"
    assert "abc123" not in repr(redact)
