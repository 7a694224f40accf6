"""``personio-operator demo``: the whole product on a laptop, offline.

Starts the Personio sandbox and a SCIM app (scim2-server) on 127.0.0.1, then walks the product's
story: the Test (plan only), the first run on activation, a few HR changes in Personio (a hire,
a leaver, a department move, a department rename), the scheduled run that follows, and one more
run that finds nothing to do. Prints the plans and the run table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.destinations import DestinationPolicy
from personio_operator.sync.render import render_report, render_run_table
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxConfig, SandboxServer
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.generator import generate_company
from personio_testkit.scim_app import ScimTestServer

DEMO_SEED = 7
DEMO_SCIM_TOKEN = "demo-scim-token"  # the in-process app's token; nothing leaves this machine
OWNER = "owner@sandbox-gmbh.example.com"
RULE = "=" * 100

Printer = Callable[[str], None]


def demo_spec(personio_url: str, scim_url: str) -> PersonioIntegrationSpec:
    return PersonioIntegrationSpec.model_validate(
        {
            "personio": {"credentialsSecretRef": {"name": "personio-credentials"}, "baseUrl": personio_url},
            "target": {"scim": {"url": scim_url, "credentialsSecretRef": {"name": "scim-token", "key": "token"}}},
            "defaultLanguage": "de",
            "rules": {"includeExternal": False},
            "users": {"jobTitle": True},
            "teams": {"supervisor": True, "department": True},
            "safety": {"maxDeactivations": "10%"},
        }
    )


@dataclass
class _HrChanges:
    described: list[str]


def make_hr_changes(company: Company) -> _HrChanges:
    """A hire, a leaver, a department move and a department rename, picked deterministically."""
    active = [p for p in company.persons() if p.current.status == "ACTIVE" and p.current.type == "INTERNAL"]
    supervisors = {p.current.supervisor_id for p in company.persons()}
    staff = [p for p in active if p.id not in supervisors and p.current.department_id is not None]
    leaver, mover = staff[0], staff[1]
    old_department = company.departments[mover.current.department_id]
    new_department = next(d for d in company.departments.values() if d.id != old_department.id)
    renamed = company.departments[staff[2].current.department_id]
    old_name = renamed.name
    new_name = old_name.replace("Sales", "Vertrieb") if "Sales" in old_name else f"{old_name} (neu)"
    boss = company.person(staff[2].current.supervisor_id)

    hire_id = company.hire(
        first_name="Mia",
        last_name="Neumann",
        email="mia.neumann@sandbox-gmbh.example.com",
        department_id=renamed.id,
        supervisor_id=boss.id,
        position="Data Analyst",
    )
    company.terminate(leaver.id)
    company.move_department(mover.id, new_department.id)
    company.rename_department(renamed.id, new_name)
    return _HrChanges(
        [
            f"hire:   Mia Neumann (person {hire_id}) joins {old_name}, reporting to {boss.first_name} {boss.last_name}",
            f"leaver: {leaver.first_name} {leaver.last_name} (person {leaver.id}) is terminated",
            f"move:   {mover.first_name} {mover.last_name} moves from {old_department.name} to {new_department.name}",
            f"rename: department {old_name!r} is renamed to {new_name!r} (same Personio id {renamed.id})",
        ]
    )


def run_demo(*, employees: int = 40, out: Printer = print) -> int:
    """Returns the exit code: 0 when every run did what the demo expects."""
    company = generate_company(employees=employees, seed=DEMO_SEED)
    with (
        SandboxServer(company, SandboxConfig()) as sandbox,
        ScimTestServer(token=DEMO_SCIM_TOKEN) as app,
    ):
        spec = demo_spec(sandbox.base_url, app.url)
        destinations = DestinationPolicy.only(sandbox.base_url, app.url)  # exactly the two servers it started
        secrets = RunSecrets(
            personio_client_id=DEFAULT_CLIENT_ID,
            personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
            scim_token=SecretStr(DEMO_SCIM_TOKEN),
        )
        out(f"Personio sandbox ({employees} people, seed {DEMO_SEED}): {sandbox.base_url}")
        out(f"SCIM app (scim2-server, in this process):   {app.url}")
        reports: list[RunReport] = []

        def step(
            title: str, trigger: Trigger, started_by: str, *, dry_run: bool = False, show_plan: bool = True
        ) -> RunReport:
            out("")
            out(RULE)
            out(title)
            out(RULE)
            report = asyncio.run(
                run_integration(
                    spec, secrets, trigger=trigger, started_by=started_by, dry_run=dry_run, destinations=destinations
                )
            )
            reports.append(report)
            if report.plan_text and show_plan:
                out(_shortened(report.plan_text))
                out("")
            out(render_report(report, with_warnings=not (report.plan_text and show_plan)))
            return report

        test = step("1. Test (what the first run would do; nothing is written)", Trigger.TEST, OWNER, dry_run=True)
        first = step(
            "2. Activate: the first run (the same plan, now applied)", Trigger.ACTIVATION, OWNER, show_plan=False
        )
        changes = make_hr_changes(sandbox.company)
        out("")
        out(RULE)
        out("3. Meanwhile in Personio")
        out(RULE)
        for line in changes.described:
            out(f"  {line}")
        second = step("4. The next scheduled run (04:00 UTC)", Trigger.SCHEDULED, "schedule")
        writes_before = app.writes()
        third = step("5. One more run: nothing changed in Personio, so nothing is written", Trigger.MANUAL, OWNER)
        third_writes = app.writes() - writes_before

        out("")
        out(RULE)
        out("Runs (users created/updated/deactivated/reactivated, teams created/updated/removed)")
        out(RULE)
        out(render_run_table(reports))
        out("")
        out(_closing_note())
        ok = all(r.succeeded for r in (test, first, second, third)) and third_writes == 0
        ok = ok and third.users.created + third.users.updated + third.users.deactivated == 0
        return 0 if ok else 1


_ALWAYS_SHOWN = ("  - ", "  ^ ", "  ! ")  # deactivations, reactivations, removals and warnings


def _shortened(plan_text: str, per_section: int = 8) -> str:
    """The first lines of each section of a rendered plan (the summary line keeps every count);
    deactivations, reactivations, team removals and warnings are always shown."""
    lines: list[str] = []
    shown = 0
    hidden = 0
    for line in plan_text.splitlines():
        if not line.startswith("  "):
            if hidden:
                lines.append(f"  ... and {hidden} more")
            lines.append(line)
            shown = hidden = 0
        elif line.startswith(_ALWAYS_SHOWN):
            lines.append(line)
        elif shown < per_section:
            lines.append(line)
            shown += 1
        else:
            hidden += 1
    if hidden:
        lines.append(f"  ... and {hidden} more")
    return "\n".join(lines)


def _closing_note() -> str:
    return (
        "What just happened: the Test read every employee from the Personio sandbox over its real HTTP API, "
        "read the SCIM app and printed the plan without writing. The first run created the active internal "
        "employees (externals stay out: rules.includeExternal is off; people on leave keep an account), set their "
        "managers once every user existed, and created one team per department and per supervisor, named in "
        "German. After the HR changes, the scheduled run created the new hire, deactivated the leaver (never "
        "deleted), moved the mover between department teams, and renamed the department's team in place (it is "
        "keyed by the Personio id). The last run found nothing to do and wrote nothing.\n"
        "Try next: `personio-operator plan -f examples/local/integration.yaml --secrets examples/local/secrets.yaml` "
        "against servers you start yourself (the comments in examples/local/integration.yaml say how); set "
        "`defaultLanguage: en` for English team names; switch on teams.office or teams.employmentType; add "
        "`--json` for the machine-readable run report; or deploy the operator with the Helm chart and watch "
        "`kubectl describe personiointegration`."
    )
