"""Benchmark: the product's sync against what the app and Personio allow, measured in one run.

    .venv/bin/python bench/sync_vs_raw.py                                   # 1,000 people, v1 and v2
    .venv/bin/python bench/sync_vs_raw.py --employees 1000 --employees 10000
    .venv/bin/python bench/sync_vs_raw.py --employees 10000 --versions v1 --profile pyinstrument

Every server runs in a process of its own: the SCIM app (scim2-server through the test kit's
ScimTestServer, a fresh one per measurement) and the Personio sandbox (Personio's documented rate
limits on). Each measured client runs in a fresh process too, so its CPU time and peak RSS are its own.

For each company size it measures:
- the raw baseline: a minimal httpx client at the same concurrency (4) creating N users on a fresh
  scim2-server, then listing them page by page (the page size the product uses);
- the Personio bound: the least time the sandbox's token buckets allow for the fewest calls the
  API version needs (v1: token + pages of 100; v2: token + pages of 50 + one employments call per person);
- the product: a full sync into an empty app, then a no-op resync (``run_integration``, as the
  operator runs it: log records at INFO, redacted).

and prints one table: wall times, the ratios against the targets (full sync <= 1.3 x max(Personio
bound, raw write); no-op resync <= 1.3 x (Personio bound + raw list)), the operator process's CPU per
written / unchanged object (<= 1 ms, <= 0.1 ms), its peak RSS, and the CPU the SCIM app and the
sandbox spent (to see which side was busy).

For the full sync it also prints a *same-work* ideal: the Personio bound, then the raw client's time
per write times the writes the product made. A run cannot write before it holds Personio's whole,
checked list (duplicates, held people and deactivations are decided on all of it), and it writes
teams and fewer users than the raw client's N users, so max(bound, raw write) understates what any
client doing this job needs.

``--profile py-spy|cprofile|pyinstrument`` profiles each product run and writes the profile into
``--profile-dir`` (default /tmp/personio-bench-profiles). py-spy samples from outside the process and
costs it nothing (``pip install py-spy``; collapsed stacks in ``*.raw``); the other two run inside it
and slow it down, httpx's deep call stacks most.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.destinations import DestinationPolicy
from personio_operator.redaction import install_log_redaction
from personio_operator.scim.discovery import MAX_PAGE_SIZE
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, default_rate_limits
from personio_testkit.personio_sandbox.app import ROUTES

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench folder is not a package
from server_processes import SandboxProcess, ScimServerProcess

TOKEN = "bench-token"
CONCURRENCY = 4
TARGET_RATIO = 1.3
CPU_PER_WRITTEN_MS = 1.0
CPU_PER_UNCHANGED_MS = 0.1
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


# --- bounds ----------------------------------------------------------------------------------------


def minimum_personio_calls(version: str, company: dict[str, int]) -> dict[str, int]:
    people = company["people"]
    if version == "v1":
        return {"POST /v1/auth": 1, "GET /v1/company/employees": max(1, math.ceil(people / 100))}
    return {
        "POST /v2/auth/token": 1,
        "GET /v2/persons": max(1, math.ceil(people / 50)),
        "GET /v2/persons/{person_id}/employments": people,
        "GET /v2/org-units/{unit_id}": company["org_units"],
        "GET /v2/workplaces": max(1, math.ceil(company["workplaces"] / 50)),
    }


def personio_bound_seconds(calls: dict[str, int]) -> float:
    """The least time the sandbox's token buckets allow for these calls (each bucket starts full and
    refills at its rate; buckets refill in parallel)."""
    rules = default_rate_limits()
    per_bucket: Counter[str] = Counter()
    for route in ROUTES:
        for bucket in route.buckets:
            per_bucket[bucket] += calls.get(f"{route.method} {route.template}", 0)
    return max(
        (max(0.0, (count - rules[b].burst_capacity) / rules[b].replenish_rate) for b, count in per_bucket.items()),
        default=0.0,
    )


# --- measured processes ----------------------------------------------------------------------------


def _measured(work: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: multiprocessing.Queue) -> None:
    try:
        queue.put(work(*args))
    except BaseException as error:  # the parent must hear of it rather than wait forever
        queue.put({"crashed": f"{type(error).__name__}: {error}"})
        raise


def in_own_process(work: Callable[..., dict[str, Any]], *args: Any, py_spy: str | None = None) -> dict[str, Any]:
    """``work(*args)`` in a fresh process; with ``py_spy`` (a path without suffix), sampled by py-spy from outside."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measured, args=(work, args, queue))
    process.start()
    sampler = None
    if py_spy is not None:
        beside = Path(sys.executable).parent / "py-spy"
        command = [
            str(beside) if beside.exists() else "py-spy",
            "record",
            "--pid",
            str(process.pid),
            "--rate",
            "200",
            "--format",
            "raw",
        ]
        sampler = subprocess.Popen([*command, "--output", f"{py_spy}.raw"], stdout=subprocess.DEVNULL)
    result: dict[str, Any] = queue.get()
    process.join()
    if sampler is not None:
        sampler.wait(timeout=60)
    if "crashed" in result:
        raise RuntimeError(f"the measured process failed: {result['crashed']}")
    return result


def _cost(started_wall: float, started_cpu: float) -> dict[str, float]:
    return {
        "seconds": time.perf_counter() - started_wall,
        "cpu_seconds": time.process_time() - started_cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def raw_user(index: int) -> dict[str, Any]:
    """About what the product sends for one person."""
    return {
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "userName": f"raw.person{index}@bench.example",
        "externalId": f"personio:{index}",
        "name": {"givenName": f"Given{index}", "familyName": f"Family{index}"},
        "displayName": f"Given{index} Family{index}",
        "emails": [{"value": f"raw.person{index}@bench.example", "type": "work", "primary": True}],
        "active": True,
        "title": f"Role {index % 17}",
        "userType": "Internal",
        "preferredLanguage": "de",
        ENTERPRISE_USER: {"employeeNumber": str(index), "department": f"Department {index % 40}"},
    }


async def _raw(url: str, users: int, concurrency: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as http:
        pending = iter(range(1, users + 1))

        async def worker() -> None:
            for index in pending:
                response = await http.post(f"{url}/Users", json=raw_user(index))
                if response.status_code != 201:
                    raise RuntimeError(f"raw create answered {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        write_seconds = time.perf_counter() - started
        started, listed, start = time.perf_counter(), 0, 1
        while True:
            page = (await http.get(f"{url}/Users", params={"startIndex": start, "count": MAX_PAGE_SIZE})).json()
            resources = page.get("Resources") or []
            listed += len(resources)
            start += len(resources)
            if not resources or start > page["totalResults"]:
                break
        list_seconds = time.perf_counter() - started
    if listed != users:
        raise RuntimeError(f"raw list found {listed} of {users} users")
    return {"write_seconds": write_seconds, "list_seconds": list_seconds}


def raw_baseline(url: str, users: int, concurrency: int) -> dict[str, Any]:
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(_raw(url, users, concurrency))
    return {**result, **_cost(started_wall, started_cpu)}


def bench_spec(personio_url: str, scim_url: str, api_version: str) -> PersonioIntegrationSpec:
    return PersonioIntegrationSpec.model_validate(
        {
            "personio": {"credentialsSecretRef": {"name": "p"}, "baseUrl": personio_url, "apiVersion": api_version},
            "target": {"scim": {"url": scim_url, "credentialsSecretRef": {"name": "s"}, "maxConcurrency": CONCURRENCY}},
            "teams": {"supervisor": True, "department": True},
            "safety": {"maxDeactivations": "100%"},
        }
    )


def _log_like_the_operator() -> None:
    """Log records at INFO, redacted and formatted (to nowhere), httpx at WARNING: as ``personio-operator run``."""
    install_log_redaction()
    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def product_run(spec_json: str, profile: str | None, profile_path: str | None) -> dict[str, Any]:
    _log_like_the_operator()
    spec = PersonioIntegrationSpec.model_validate_json(spec_json)
    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
        scim_token=SecretStr(TOKEN),
    )
    local = DestinationPolicy.only(spec.personio.base_url, spec.target.scim.url)  # the bench's own servers

    reports: list[Any] = []

    async def integration_run() -> None:
        # handed out through a list, as the CLI does: asyncio.run formats the repr of its main task's result
        reports.append(
            await run_integration(spec, secrets, trigger=Trigger.MANUAL, started_by="bench", destinations=local)
        )

    def run() -> Any:
        asyncio.run(integration_run())
        return reports[0]

    started_wall, started_cpu = time.perf_counter(), time.process_time()
    if profile == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
        report = profiler.runcall(run)
        profiler.dump_stats(f"{profile_path}.prof")
    elif profile == "pyinstrument":
        from pyinstrument import Profiler  # not a dependency: pip install pyinstrument

        with Profiler(interval=0.0005, async_mode="disabled") as profiler:
            report = run()
        Path(f"{profile_path}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
        Path(f"{profile_path}.html").write_text(profiler.output_html())
    else:
        report = run()
    cost = _cost(started_wall, started_cpu)
    return {
        **cost,
        "ok": report.succeeded,
        "error": report.error,
        "written": sum(1 for obj in report.objects if obj.ok),
        "failed": sum(1 for obj in report.objects if not obj.ok),
        "unchanged": report.users.unchanged + report.teams.unchanged,
        "users": report.users.model_dump(),
        "teams": report.teams.model_dump(),
    }


# --- one company -----------------------------------------------------------------------------------


@dataclass
class Measured:
    label: str
    result: dict[str, Any]
    scim_requests: dict[str, int]
    scim_cpu: float
    personio_calls: dict[str, int]
    personio_429: int
    personio_cpu: float

    @property
    def scim_writes(self) -> int:
        return sum(count for kind, count in self.scim_requests.items() if kind.startswith(WRITE_METHODS))


def measure_product(
    label: str, spec: PersonioIntegrationSpec, sandbox: SandboxProcess, app: ScimServerProcess, args: argparse.Namespace
) -> Measured:
    sandbox.reset()
    app.reset()
    personio_before, scim_before = sandbox.stats()["cpu_seconds"], app.stats()["cpu_seconds"]
    profile_path = None
    if args.profile:
        Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
        profile_path = str(Path(args.profile_dir) / label.replace(" ", "-"))
    in_process = args.profile if args.profile != "py-spy" else None
    py_spy = profile_path if args.profile == "py-spy" else None
    result = in_own_process(product_run, spec.model_dump_json(by_alias=True), in_process, profile_path, py_spy=py_spy)
    personio, scim = sandbox.stats(), app.stats()
    return Measured(
        label,
        result,
        scim["requests"],
        scim["cpu_seconds"] - scim_before,
        personio["calls"],
        personio["rate_limited"],
        personio["cpu_seconds"] - personio_before,
    )


def bench_company(employees: int, versions: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with SandboxProcess(employees) as sandbox:
        company = sandbox.company
        with ScimServerProcess(TOKEN) as app:
            before = app.stats()["cpu_seconds"]
            raw = in_own_process(raw_baseline, app.url, company["people"], CONCURRENCY)
            raw["scim_cpu"] = app.stats()["cpu_seconds"] - before
        print(
            f"\n{employees} people: raw httpx, concurrency {CONCURRENCY}: create {company['people']} users "
            f"{raw['write_seconds']:.1f} s, list them {raw['list_seconds']:.1f} s; client CPU "
            f"{raw['cpu_seconds']:.1f} s ({1000 * raw['cpu_seconds'] / company['people']:.2f} ms per user), "
            f"app CPU {raw['scim_cpu']:.1f} s",
            flush=True,
        )
        for version in versions:
            bound = personio_bound_seconds(minimum_personio_calls(version, company))
            with ScimServerProcess(TOKEN) as app:
                spec = bench_spec(sandbox.base_url, app.url, version)
                full = measure_product(f"{employees}-{version}-full", spec, sandbox, app, args)
                noop = measure_product(f"{employees}-{version}-noop", spec, sandbox, app, args)
            raw_per_write = raw["write_seconds"] / company["people"]
            for sample, ideal, same_work, per in (
                (full, max(bound, raw["write_seconds"]), bound + raw_per_write * full.scim_writes, "written"),
                (noop, bound + raw["list_seconds"], bound + raw["list_seconds"], "unchanged"),
            ):
                rows.append(row(employees, version, sample, bound, raw, ideal, same_work, per))
                print(describe(rows[-1]), flush=True)
    return rows


def row(
    employees: int,
    version: str,
    sample: Measured,
    bound: float,
    raw: dict[str, Any],
    ideal: float,
    same_work: float,
    per: str,
) -> dict[str, Any]:
    result = sample.result
    objects = result[per]
    return {
        "people": employees,
        "version": version,
        "run": "full" if per == "written" else "no-op",
        "ok": result["ok"] and result["failed"] == 0,
        "error": result["error"],
        "seconds": result["seconds"],
        "ideal": ideal,
        "ratio": result["seconds"] / ideal if ideal else float("nan"),
        "same_work": same_work,
        "same_work_ratio": result["seconds"] / same_work if same_work else float("nan"),
        "bound": bound,
        "raw_write": raw["write_seconds"],
        "raw_list": raw["list_seconds"],
        "objects": objects,
        "per": per,
        "cpu": result["cpu_seconds"],
        "cpu_ms_per_object": 1000 * result["cpu_seconds"] / objects if objects else float("nan"),
        "peak_mb": result["peak_mb"],
        "scim_writes": sample.scim_writes,
        "scim_requests": sum(sample.scim_requests.values()),
        "scim_cpu": sample.scim_cpu,
        "personio_calls": sum(sample.personio_calls.values()),
        "personio_429": sample.personio_429,
        "personio_cpu": sample.personio_cpu,
    }


def describe(r: dict[str, Any]) -> str:
    status = "ok" if r["ok"] else f"FAILED: {r['error']}"
    return (
        f"  {r['version']} {r['run']:5s} {r['seconds']:7.1f} s  ideal {r['ideal']:6.1f} s  ratio {r['ratio']:.2f}  "
        f"same-work ideal {r['same_work']:6.1f} s  ratio {r['same_work_ratio']:.2f}  "
        f"CPU {r['cpu']:6.1f} s = {r['cpu_ms_per_object']:.3f} ms x {r['objects']} {r['per']}  "
        f"RSS {r['peak_mb']:.0f} MB  SCIM {r['scim_requests']} req ({r['scim_writes']} writes, app CPU "
        f"{r['scim_cpu']:.1f} s)  Personio {r['personio_calls']} calls ({r['personio_429']} x 429, "
        f"sandbox CPU {r['personio_cpu']:.1f} s)  {status}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        "| people | API | run | product s | Personio bound s | raw write s | raw list s | ideal s | ratio "
        "| same-work ideal s | ratio | CPU s | CPU ms/object | objects | peak RSS MB | app CPU s |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r['people']:,} | {r['version']} | {r['run']} | {r['seconds']:.1f} | {r['bound']:.1f} | "
            f"{r['raw_write']:.1f} | {r['raw_list']:.1f} | {r['ideal']:.1f} | {r['ratio']:.2f} | "
            f"{r['same_work']:.1f} | {r['same_work_ratio']:.2f} | {r['cpu']:.1f} | "
            f"{r['cpu_ms_per_object']:.3f} | {r['objects']:,} {r['per']} | {r['peak_mb']:.0f} | {r['scim_cpu']:.1f} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    checks = []
    for r in rows:
        name = f"{r['people']:,} {r['version']} {r['run']}"
        checks.append((f"{name}: succeeded, nothing failed", r["ok"]))
        checks.append((f"{name}: <= {TARGET_RATIO}x the ideal ({r['ratio']:.2f})", r["ratio"] <= TARGET_RATIO))
        if r["run"] == "full":
            same = r["same_work_ratio"]
            checks.append((f"{name}: <= {TARGET_RATIO}x the same-work ideal ({same:.2f})", same <= TARGET_RATIO))
        limit = CPU_PER_WRITTEN_MS if r["per"] == "written" else CPU_PER_UNCHANGED_MS
        cpu = r["cpu_ms_per_object"]
        checks.append((f"{name}: CPU <= {limit} ms per {r['per']} object ({cpu:.3f})", cpu <= limit))
        if r["run"] == "no-op":
            checks.append((f"{name}: no writes ({r['scim_writes']})", r["scim_writes"] == 0))
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, action="append", help="company size (repeatable); default 1000")
    parser.add_argument("--versions", default="v1,v2", help="Personio API versions, comma-separated")
    parser.add_argument(
        "--profile", choices=["py-spy", "cprofile", "pyinstrument"], help="profile each product run (py-spy: sampled)"
    )
    parser.add_argument("--profile-dir", default="/tmp/personio-bench-profiles")
    args = parser.parse_args()
    versions = [version.strip() for version in args.versions.split(",") if version.strip()]
    rows = []
    for employees in args.employees or [1000]:
        rows += bench_company(employees, versions, args)
    print("\n" + table(rows) + "\n")
    checks = verdicts(rows)
    for name, passed in checks:
        print(f"  [{'x' if passed else ' '}] {name}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
