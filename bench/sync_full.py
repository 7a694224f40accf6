"""Benchmark: a full sync of N employees, Personio sandbox -> SCIM app on 127.0.0.1, then a no-op resync.

    .venv/bin/python bench/sync_full.py                    # 1,000 employees
    .venv/bin/python bench/sync_full.py --employees 1000 --employees 10000

Reports per run: wall time, requests per side against the minimum the APIs allow, 429s, and the
sync process's peak RSS (each run executes in its own child process, so the servers' memory is not
counted). Targets: the no-op resync sends zero writes; 10,000 employees finish in under
2x the Personio rate-limit bound (the time the sandbox's token buckets force on the calls made);
peak RSS under 300 MB. Personio's documented rate limits are ON in the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.destinations import DestinationPolicy
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SandboxConfig,
    SandboxServer,
    default_rate_limits,
    generate_company,
)
from personio_testkit.personio_sandbox.app import ROUTES
from personio_testkit.scim_app import ScimTestServer

TOKEN = "bench-token"
RSS_TARGET_MB = 300
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def bench_spec(personio_url: str, scim_url: str, api_version: str) -> PersonioIntegrationSpec:
    return PersonioIntegrationSpec.model_validate(
        {
            "personio": {
                "credentialsSecretRef": {"name": "p"},
                "baseUrl": personio_url,
                "apiVersion": api_version,
            },
            "target": {"scim": {"url": scim_url, "credentialsSecretRef": {"name": "s"}, "maxConcurrency": 8}},
            "teams": {"supervisor": True, "department": True},
            "safety": {"maxDeactivations": "100%"},
        }
    )


def _child(spec_json: str, queue: multiprocessing.Queue) -> None:
    spec = PersonioIntegrationSpec.model_validate_json(spec_json)
    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
        scim_token=SecretStr(TOKEN),
    )
    started = time.perf_counter()
    local = DestinationPolicy.only(spec.personio.base_url, spec.target.scim.url)  # the bench's own servers
    report = asyncio.run(run_integration(spec, secrets, trigger=Trigger.MANUAL, started_by="bench", destinations=local))
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "ok": report.succeeded,
            "error": report.error,
            "seconds": elapsed,
            "peak_mb": peak_mb,
            "users": report.users.model_dump(),
            "teams": report.teams.model_dump(),
            "objects": len(report.objects),
        }
    )


def run_in_child(spec: PersonioIntegrationSpec) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(spec.model_dump_json(by_alias=True), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def rate_limit_bound_seconds(calls: dict[str, int]) -> float:
    """The least time the sandbox's token buckets allow for these calls (buckets refill in parallel)."""
    rules = default_rate_limits()
    per_bucket: Counter[str] = Counter()
    for route in ROUTES:
        count = calls.get(f"{route.method} {route.template}", 0)
        for bucket in route.buckets:
            per_bucket[bucket] += count
    return max(
        (max(0.0, (count - rules[b].burst_capacity) / rules[b].replenish_rate) for b, count in per_bucket.items()),
        default=0.0,
    )


def personio_minimum(company: Any, api_version: str) -> int:
    people = len(company.persons())
    if api_version == "v1":
        return 1 + max(1, math.ceil(people / 100))  # token + employee pages (everything inline)
    # token + person pages + one employments call per person (v2 has no bulk endpoint); org unit and
    # workplace names come on top, a handful of calls
    return 1 + max(1, math.ceil(people / 50)) + people


@dataclass
class Sample:
    label: str
    result: dict[str, Any]
    personio_calls: dict[str, int]
    personio_429: int
    scim: Counter[str]


def measure(label: str, spec: PersonioIntegrationSpec, sandbox: SandboxServer, app: ScimTestServer) -> Sample:
    sandbox.stats.reset()
    app.reset_requests()
    result = run_in_child(spec)
    scim = Counter(request.method for request in app.requests)
    return Sample(label, result, sandbox.stats.calls, sandbox.stats.rate_limited, scim)


def describe(sample: Sample, minimum_personio: int) -> list[str]:
    result = sample.result
    personio_total = sum(sample.personio_calls.values())
    bound = rate_limit_bound_seconds(sample.personio_calls)
    writes = sum(count for method, count in sample.scim.items() if method in WRITE_METHODS)
    users, teams = result["users"], result["teams"]
    min_writes = users["created"] + users["updated"] + users["deactivated"] + users["reactivated"]
    min_writes += teams["created"] + teams["updated"] + teams["removed"]
    ratio = result["seconds"] / bound if bound else float("nan")
    return [
        f"  {sample.label}: {'ok' if result['ok'] else 'FAILED: ' + str(result['error'])}",
        f"    wall time          {result['seconds']:8.1f} s   (Personio rate-limit bound {bound:.1f} s, "
        f"ratio {ratio:.2f})",
        f"    Personio requests  {personio_total:8d}     (minimum {minimum_personio}; "
        f"429 answers {sample.personio_429})",
        f"    SCIM requests      {sum(sample.scim.values()):8d}     ({dict(sorted(sample.scim.items()))})",
        f"    SCIM writes        {writes:8d}     (minimum {min_writes}: one per created/changed object)",
        f"    users              {users}",
        f"    teams              {teams}",
        f"    peak RSS           {result['peak_mb']:8.1f} MB  (target < {RSS_TARGET_MB} MB)",
    ]


def bench(employees: int, api_version: str) -> bool:
    company = generate_company(employees=employees, seed=42)
    with SandboxServer(company, SandboxConfig()) as sandbox, ScimTestServer(token=TOKEN) as app:
        spec = bench_spec(sandbox.base_url, app.url, api_version)
        minimum = personio_minimum(sandbox.company, api_version)
        full = measure("full sync", spec, sandbox, app)
        noop = measure("no-op resync", spec, sandbox, app)
    print(f"\n{employees} employees, Personio API {api_version}, rate limits on")
    for sample in (full, noop):
        print("\n".join(describe(sample, minimum)))
    noop_writes = sum(count for method, count in noop.scim.items() if method in WRITE_METHODS)
    bound = rate_limit_bound_seconds(full.personio_calls)
    checks = {
        "no-op resync sends zero writes": noop_writes == 0,
        f"peak RSS < {RSS_TARGET_MB} MB": max(full.result["peak_mb"], noop.result["peak_mb"]) < RSS_TARGET_MB,
        "full sync < 2x the rate-limit bound": full.result["ok"] and (bound == 0 or full.result["seconds"] < 2 * bound),
        "both runs succeeded": full.result["ok"] and noop.result["ok"],
    }
    for name, passed in checks.items():
        print(f"  [{'x' if passed else ' '}] {name}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, action="append", help="company size (repeatable); default 1000")
    parser.add_argument("--api-version", choices=["v2", "v1"], default="v2")
    args = parser.parse_args()
    results = [bench(n, args.api_version) for n in args.employees or [1000]]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
