"""Fetch 10,000 employees from the Personio sandbox (default rate limits) over v1 and v2.

Prints wall time, calls per endpoint, calls over the minimum, 429s and peak RSS, and for v2 the
fastest wall time the sandbox's token buckets allow (its configured rates and burst sizes).

    .venv/bin/python bench/personio_fetch.py [--employees 10000] [--versions v2,v1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import time

from pydantic import SecretStr

from personio_operator.api.spec import PersonioSource
from personio_operator.personio.client import PersonioClient
from personio_operator.personio.models import Attribute
from personio_testkit.personio_sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SandboxConfig,
    SandboxServer,
    generate_company,
)
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.config import RateLimitRule

# Which sandbox bucket meters which endpoint (sandbox/config.py default_rate_limits()).
V2_BUCKETS = {
    "POST /v2/auth/token": ("v2_auth",),
    "GET /v2/persons": ("v2_persons",),
    "GET /v2/persons/{person_id}/employments": ("v2_employments",),
    "GET /v2/org-units/{unit_id}": ("v2_org_units",),
    "GET /v2/workplaces": ("v2_workplaces",),
}
V1_BUCKETS = {
    "POST /v1/auth": ("v1_auth", "v1_global"),
    "GET /v1/company/employees": ("v1_employees_minute", "v1_employees_burst", "v1_global"),
}


def minimum_calls(version: str, company: Company) -> dict[str, int]:
    people = company.persons()
    if version == "v1":
        return {"POST /v1/auth": 1, "GET /v1/company/employees": max(1, math.ceil(len(people) / 100))}
    units = {("d", p.current.department_id) for p in people if p.current.department_id is not None}
    units |= {("t", p.current.team_id) for p in people if p.current.team_id is not None}
    return {
        "POST /v2/auth/token": 1,
        "GET /v2/persons": max(1, math.ceil(len(people) / 50)),
        "GET /v2/persons/{person_id}/employments": len(people),
        "GET /v2/org-units/{unit_id}": len(units),
        "GET /v2/workplaces": max(1, math.ceil(len(company.workplaces) / 50)),
    }


def fastest_allowed_seconds(
    calls: dict[str, int], buckets: dict[str, tuple[str, ...]], rules: dict[str, RateLimitRule]
) -> float:
    """Every bucket starts full and refills at its rate; endpoints on separate buckets run in parallel."""
    load: dict[str, int] = {}
    for endpoint, count in calls.items():
        for bucket in buckets.get(endpoint, ()):
            load[bucket] = load.get(bucket, 0) + count
    return max(
        (max(0.0, (count - rules[b].burst_capacity) / rules[b].replenish_rate) for b, count in load.items()),
        default=0.0,
    )


async def fetch_once(version: str, company: Company, config: SandboxConfig) -> dict[str, object]:
    with SandboxServer(company, config) as sandbox:
        source = PersonioSource.model_validate(
            {"credentialsSecretRef": {"name": "bench"}, "baseUrl": sandbox.base_url, "apiVersion": version}
        )
        started = time.perf_counter()
        async with PersonioClient(
            source, DEFAULT_CLIENT_ID, SecretStr(DEFAULT_CLIENT_SECRET), budget_seconds=3600
        ) as client:
            result = await client.fetch_employees(set(Attribute))
        wall = time.perf_counter() - started
        return {
            "wall": wall,
            "calls": sandbox.stats.calls,
            "throttled": sandbox.stats.rate_limited,
            "employees": len(result.employees),
            "complete": result.complete,
            "warnings": len(result.warnings),
        }


def report(version: str, company: Company, config: SandboxConfig, outcome: dict[str, object]) -> None:
    calls: dict[str, int] = outcome["calls"]  # type: ignore[assignment]
    throttled: int = outcome["throttled"]  # type: ignore[assignment]
    minimum = minimum_calls(version, company)
    buckets = V2_BUCKETS if version == "v2" else V1_BUCKETS
    bound = fastest_allowed_seconds(minimum, buckets, config.rate_limit_rules)
    total, least = sum(calls.values()), sum(minimum.values())
    print(f"== {version}: {outcome['employees']} employees, complete={outcome['complete']}")
    print(f"   wall time            {outcome['wall']:.1f} s")
    print(f"   rate-limit bound     {bound:.1f} s  (ratio {outcome['wall'] / bound if bound else float('nan'):.2f})")
    for endpoint in sorted(set(calls) | set(minimum)):
        print(f"   {endpoint:38s} {calls.get(endpoint, 0):6d}  (minimum {minimum.get(endpoint, 0)})")
    print(f"   429s received        {throttled}")
    print(f"   calls over minimum   {total - least}  ({total - least - throttled} not explained by retried 429s)")
    print(f"   warnings             {outcome['warnings']}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--versions", default="v2,v1")
    args = parser.parse_args()
    company = generate_company(employees=args.employees, seed=42)
    config = SandboxConfig()
    for version in args.versions.split(","):
        outcome = await fetch_once(version.strip(), company, config)
        report(version.strip(), company, config, outcome)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS (client and sandbox share this process): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
