"""Per-endpoint token buckets with Personio's ``x-ratelimit-*`` headers."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from personio_testkit.personio_sandbox.clock import SandboxClock
from personio_testkit.personio_sandbox.config import RateLimitRule


@dataclass
class RateDecision:
    allowed: bool
    headers: dict[str, str]
    retry_after_seconds: int = 1


class _Bucket:
    def __init__(self, rule: RateLimitRule, now: float) -> None:
        self.rule = rule
        self.tokens = float(rule.burst_capacity)
        self.updated = now
        self.locked_until = 0.0

    def refill(self, now: float) -> None:
        if self.locked_until:
            if now < self.locked_until:
                return
            self.locked_until = 0.0
            self.tokens = float(self.rule.burst_capacity)
        self.tokens = min(self.rule.burst_capacity, self.tokens + (now - self.updated) * self.rule.replenish_rate)
        self.updated = now

    def seconds_until_token(self, now: float) -> float:
        if self.locked_until:
            return max(0.0, self.locked_until - now)
        return max(0.0, (1 - self.tokens) / self.rule.replenish_rate)


class RateLimiter:
    """Takes one token from each named bucket of a request, or refuses it (429).

    Headers describe the most constrained bucket, as a Spring Cloud Gateway would report it.
    """

    def __init__(self, rules: dict[str, RateLimitRule], clock: SandboxClock) -> None:
        self._rules = rules
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def take(self, bucket_names: tuple[str, ...]) -> RateDecision:
        with self._lock:
            now = self._clock.monotonic()
            buckets = [self._bucket(name, now) for name in bucket_names if name in self._rules]
            if not buckets:
                return RateDecision(allowed=True, headers={})
            for bucket in buckets:
                bucket.refill(now)
            allowed = all(b.tokens >= 1 and not b.locked_until for b in buckets)
            if allowed:
                for bucket in buckets:
                    bucket.tokens -= 1
            else:
                for bucket in buckets:
                    if bucket.tokens < 1 and bucket.rule.lockout_seconds and not bucket.locked_until:
                        bucket.locked_until = now + bucket.rule.lockout_seconds
            tightest = min(buckets, key=lambda b: (b.tokens / b.rule.burst_capacity, b.rule.burst_capacity))
            wait = max(b.seconds_until_token(now) for b in buckets)
            headers = {
                "x-ratelimit-replenish-rate": _number(tightest.rule.replenish_rate),
                "x-ratelimit-burst-capacity": str(tightest.rule.burst_capacity),
                "x-ratelimit-requested-tokens": "1",
                "x-ratelimit-remaining": str(max(0, int(tightest.tokens))),
            }
            return RateDecision(allowed=allowed, headers=headers, retry_after_seconds=max(1, round(wait + 0.5)))

    def _bucket(self, name: str, now: float) -> _Bucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(self._rules[name], now)
        return bucket


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")
