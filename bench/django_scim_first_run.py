"""A new user's first two runs against django-scim2-server (strict, core schemas only), as the CLI would do them.

Personio sandbox (30 people) -> the real runner -> django-scim2-server on 127.0.0.1. Prints each
run's result and error, the failed objects by error, and what the app answered per endpoint, so a
change to how the client copes with strict apps can be checked by hand.

    .venv/bin/python bench/django_scim_first_run.py                       # default spec
    .venv/bin/python bench/django_scim_first_run.py --twin-supervisors    # supervisor teams, two "Felix Böhm"
    .venv/bin/python bench/django_scim_first_run.py --budget 60 --employees 100
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr
from tests.plugins.django_scim_server import DjangoScimServer
from tests.sync.harness import Harness

from personio_operator.api.run import Trigger
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SandboxConfig,
    SandboxServer,
    generate_company,
)

TWIN = (1008, "Felix")  # Emma Böhm (a supervisor in seed 1) renamed to share Felix Böhm's full name


async def first_runs(employees: int, budget: float, twins: bool, runs: int) -> None:
    sandbox = SandboxServer(generate_company(employees=employees, seed=1), SandboxConfig(rate_limits=False)).start()
    app = DjangoScimServer(Path(tempfile.mkdtemp(prefix="django-scim-"))).start()
    print(f"django-scim2-server ready in {app.started_in_seconds:.2f}s at {app.url}")
    try:
        spec: dict = {}
        if twins:
            sandbox.company.change_name(TWIN[0], first_name=TWIN[1])
            spec = {"teams": {"supervisor": True}}
        harness = Harness(sandbox, app, **spec)  # type: ignore[arg-type]
        secrets = RunSecrets(
            personio_client_id=DEFAULT_CLIENT_ID,
            personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
            scim_token=SecretStr(app.token),
        )
        for number in range(1, runs + 1):
            seen = len(app.requests)
            started = time.monotonic()
            report = await run_integration(
                harness.spec(),
                secrets,
                trigger=Trigger.MANUAL,
                started_by="bench",
                budget_seconds=budget,
                destinations=harness.destinations,
            )
            print(f"\n== run {number}: {report.result.value} in {time.monotonic() - started:.1f}s")
            print(f"   users {report.users.model_dump()}\n   teams {report.teams.model_dump()}")
            if report.error:
                print(f"   error: {report.error.splitlines()[0][:300]}")
            for limit in report.app_limits:
                print(f"   not synced: {limit}")
            failures = Counter(f"{o.kind} {o.action}: {_shape(o.error)}" for o in report.objects if not o.ok)
            for failure, count in failures.most_common():
                print(f"   {count:4} x {failure[:200]}")
            answered = Counter((r.method, "/" + r.path.strip("/").split("/")[0], r.status) for r in app.requests[seen:])
            for (method, path, status), count in sorted(answered.items()):
                print(f"   {method:6} {path:24} {status}  x {count}")
            print(f"   the app holds {len(app.users())} users and {len(app.groups())} groups")
    finally:
        app.stop()
        sandbox.stop()


def _shape(error: str | None) -> str:
    """The error with names and ids blanked, so that equal causes count together."""
    text = " / ".join(line.strip() for line in (error or "").splitlines()[:3])
    return re.sub(r"'[^']*'|[\w.+-]+@[\w.-]+|[0-9a-f]{8}-[0-9a-f-]{27}|personio:[\w:]+", "…", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=30)
    parser.add_argument("--budget", type=float, default=20.0, help="the app side's retry budget per run (s)")
    parser.add_argument("--twin-supervisors", action="store_true", help="supervisor teams with a duplicate name")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(first_runs(args.employees, args.budget, args.twin_supervisors, args.runs))


if __name__ == "__main__":
    main()
