"""How a sandbox behaves: credentials, token lifetime, rate limits, quirks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"  # a well-known test value, not a secret
DEFAULT_TOKEN_LIFETIME_SECONDS = 86_400

# Every scope the sandbox knows; tokens get all of them unless the request names a subset.
KNOWN_SCOPES: tuple[str, ...] = (
    "personio:persons:read",
    "personio:employments:read",
    "personio:org-units:read",
    "personio:workplaces:read",
    "employees:read",
)


class RateLimitRule(BaseModel):
    """A token bucket: ``burst_capacity`` tokens, refilled at ``replenish_rate`` tokens per second.

    ``lockout_seconds`` > 0: once empty, the bucket refuses everything for that long and then
    starts full again (Personio's auth limits: "60/min, then a 60 s cool-down").
    """

    model_config = ConfigDict(frozen=True)

    replenish_rate: float = Field(gt=0)
    burst_capacity: int = Field(ge=1)
    lockout_seconds: float = Field(default=0, ge=0)


def default_rate_limits() -> dict[str, RateLimitRule]:
    """Per-endpoint buckets (personio-api.md §3 and §8)."""
    return {
        "v2_persons": RateLimitRule(replenish_rate=30, burst_capacity=30),
        "v2_employments": RateLimitRule(replenish_rate=30, burst_capacity=30),
        "v2_org_units": RateLimitRule(replenish_rate=30, burst_capacity=30),
        "v2_workplaces": RateLimitRule(replenish_rate=30, burst_capacity=30),
        # 150 per minute; afterwards Personio allows 1 request/s for 60 s (approximated by the refill).
        "v2_auth": RateLimitRule(replenish_rate=2.5, burst_capacity=150),
        # 300 per minute with a burst of 15 per second: two buckets, both must have a token.
        "v1_employees_minute": RateLimitRule(replenish_rate=5, burst_capacity=300),
        "v1_employees_burst": RateLimitRule(replenish_rate=15, burst_capacity=15),
        "v1_auth": RateLimitRule(replenish_rate=1, burst_capacity=60, lockout_seconds=60),
        # 2000 per minute for all v1 endpoints (per client IP at Personio; one client here).
        "v1_global": RateLimitRule(replenish_rate=2000 / 60, burst_capacity=2000),
    }


class V1Quirks(BaseModel):
    """Type drift seen on real v1 responses (personio-api.md §2.1, §7). All off by default."""

    model_config = ConfigDict(frozen=True)

    numbers_as_strings: bool = False  # ids and weekly hours as "123" instead of 123
    empty_objects_as: Literal["null", "empty_string", "empty_list"] = "null"  # no supervisor/team/…
    office_label: str = "Workplace"  # "Office" before May 2025
    german_not_found: bool = True  # 404 message "Es ist ein Problem aufgetreten "


class SandboxConfig(BaseModel):
    """Everything about a sandbox except its data. Defaults mirror Personio as documented."""

    model_config = ConfigDict(frozen=True)

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: SecretStr = SecretStr(DEFAULT_CLIENT_SECRET)
    token_lifetime_seconds: int = Field(default=DEFAULT_TOKEN_LIFETIME_SECONDS, ge=1)
    scopes: tuple[str, ...] = KNOWN_SCOPES
    # Readable attributes of the credential: v1 attribute keys (``personio.models.Attribute`` values
    # and extras such as "preferred_name", "hire_date", "termination_date"). None = everything.
    whitelist: frozenset[str] | None = None
    rate_limits: bool = True
    rate_limit_rules: dict[str, RateLimitRule] = Field(default_factory=default_rate_limits)
    retry_after_on_429: bool = False  # Personio sends none; switch on to test clients that honour it
    v1_default_limit: int = Field(default=50, ge=1)
    v1_max_limit: int = Field(default=100, ge=1)
    v1_query_string_auth: bool = False  # removed by Personio: 403 unless switched on
    v1_quirks: V1Quirks = V1Quirks()
    v2_default_limit: int = Field(default=10, ge=1)
    v2_max_limit: int = Field(default=50, ge=1)
    revoke_tokens_on_regenerate: bool = True
