"""Token buckets: headers on every response, 429 without Retry-After (switchable), refill by the clock."""

from __future__ import annotations

import httpx

from personio_testkit.personio_sandbox import RateLimitRule, SandboxClock, default_rate_limits
from tests.personio_sandbox.helpers import v1_headers, v2_headers

HEADERS = ("x-ratelimit-replenish-rate", "x-ratelimit-burst-capacity", "x-ratelimit-requested-tokens")


def _frozen(personio_sandbox, **config):
    clock = SandboxClock(frozen=True)
    return personio_sandbox(employees=5, clock=clock, **config), clock


def test_every_response_carries_the_bucket_headers(personio_sandbox):
    sandbox, _ = _frozen(personio_sandbox)
    headers = v2_headers(sandbox)
    response = httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers)
    assert [response.headers[h] for h in HEADERS] == ["30", "30", "1"]
    assert response.headers["x-ratelimit-remaining"] == "29"
    not_found = httpx.get(f"{sandbox.base_url}/v2/persons/999", headers=headers)
    assert not_found.headers["x-ratelimit-remaining"] == "28"


def test_persons_bucket_empties_to_a_429_without_retry_after(personio_sandbox):
    sandbox, clock = _frozen(personio_sandbox)
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox)) as client:
        statuses = [client.get("/v2/persons").status_code for _ in range(31)]
        assert statuses == [200] * 30 + [429]
        refused = client.get("/v2/persons")
        assert refused.status_code == 429
        assert "retry-after" not in refused.headers
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert refused.headers["content-type"].startswith("application/problem+json")
        # Employments have a bucket of their own.
        assert client.get("/v2/persons/1001/employments").status_code == 200
        clock.advance(0.1)  # 30 tokens/s: three new tokens
        assert [client.get("/v2/persons").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert sandbox.stats.rate_limited == 3


def test_retry_after_can_be_switched_on(personio_sandbox):
    rules = {**default_rate_limits(), "v2_persons": RateLimitRule(replenish_rate=0.5, burst_capacity=1)}
    sandbox, _ = _frozen(personio_sandbox, rate_limit_rules=rules, retry_after_on_429=True)
    headers = v2_headers(sandbox)
    assert httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers).status_code == 200
    refused = httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"


def test_v1_employees_burst_of_15_per_second(personio_sandbox):
    sandbox, clock = _frozen(personio_sandbox)
    with httpx.Client(base_url=sandbox.base_url, headers=v1_headers(sandbox)) as client:
        statuses = [client.get("/v1/company/employees", params={"limit": 1}).status_code for _ in range(16)]
        assert statuses == [200] * 15 + [429]
        refused = client.get("/v1/company/employees")
        assert refused.json() == {"success": False, "error": {"code": 429, "message": "Too Many Requests"}}
        clock.advance(1)
        assert client.get("/v1/company/employees").status_code == 200


def test_v1_auth_locks_out_for_60_seconds_after_60_requests(personio_sandbox):
    sandbox, clock = _frozen(personio_sandbox)
    body = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    with httpx.Client(base_url=sandbox.base_url) as client:
        statuses = [client.post("/v1/auth", json=body).status_code for _ in range(61)]
        assert statuses == [200] * 60 + [429]
        clock.advance(59)
        assert client.post("/v1/auth", json=body).status_code == 429
        clock.advance(1)
        assert client.post("/v1/auth", json=body).status_code == 200


def test_rate_limits_off_means_no_429_and_no_headers(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox)) as client:
        responses = [client.get("/v2/persons") for _ in range(40)]
    assert {r.status_code for r in responses} == {200}
    assert "x-ratelimit-remaining" not in responses[0].headers
