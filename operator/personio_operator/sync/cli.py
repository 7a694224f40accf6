"""``personio-operator plan`` and ``sync``: the sync engine on a laptop, no cluster needed.

Exit codes: 0 the run (or Test) succeeded, 1 it failed, 2 the input was bad (file, spec, credentials).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from personio_operator.api.run import Trigger
from personio_operator.destinations import CLI_FLAG, DestinationPolicy
from personio_operator.errors import ConfigurationError
from personio_operator.redaction import install_log_redaction, redact, redact_data
from personio_operator.sync.integration_file import load_integration
from personio_operator.sync.render import render_report, render_run_table
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets_source import SecretData, load_secret_files, resolve_secrets, secret_from_document

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

_file_option = click.option(
    "-f",
    "--file",
    "integration_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PersonioIntegration YAML (apiVersion hrsync.dev/v1alpha1).",
)
_secrets_option = click.option(
    "--secrets",
    "secret_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Kubernetes Secret YAML with the credentials the spec refers to (repeatable). "
    "Without it: $PERSONIO_CLIENT_ID, $PERSONIO_CLIENT_SECRET, $SCIM_TOKEN.",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
_started_by_option = click.option(
    "--started-by", default=None, help="Who started the run, for the run table (default: your login name)."
)
_allow_url_option = click.option(
    CLI_FLAG,
    "allowed_urls",
    multiple=True,
    metavar="PATTERN",
    help="Also allow credentials to go to this scheme://host[:port] (repeatable; * for any port, e.g. "
    "'http://127.0.0.1:*' for local servers). Added to $PERSONIO_OPERATOR_ALLOWED_PERSONIO_URLS / "
    "$PERSONIO_OPERATOR_ALLOWED_SCIM_URLS or their defaults (https://api.personio.de; any public https app).",
)


def register(group: click.Group) -> None:
    """Add this area's subcommands to the ``personio-operator`` group."""
    group.add_command(plan_command)
    group.add_command(sync_command)


def _run_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options ``plan`` and ``sync`` share."""
    for option in (_allow_url_option, _started_by_option, _json_option, _secrets_option, _file_option):
        command = option(command)
    return command


@click.command("plan")
@_run_options
def plan_command(
    integration_file: Path,
    secret_files: tuple[Path, ...],
    as_json: bool,
    started_by: str | None,
    allowed_urls: tuple[str, ...],
) -> None:
    """The Test: read Personio and the app, print what a run would change. Writes nothing."""
    _run_once(
        integration_file, secret_files, as_json=as_json, started_by=started_by, dry_run=True, allowed_urls=allowed_urls
    )


@click.command("sync")
@_run_options
def sync_command(
    integration_file: Path,
    secret_files: tuple[Path, ...],
    as_json: bool,
    started_by: str | None,
    allowed_urls: tuple[str, ...],
) -> None:
    """One run: bring the app's users and teams in step with Personio (guards first)."""
    _run_once(
        integration_file, secret_files, as_json=as_json, started_by=started_by, dry_run=False, allowed_urls=allowed_urls
    )


def echo(text: str, *, err: bool = False) -> None:
    """Every line this CLI prints goes through the redaction step."""
    click.echo(redact(text), err=err)


def _run_once(
    integration_file: Path,
    secret_files: tuple[Path, ...],
    *,
    as_json: bool,
    started_by: str | None,
    dry_run: bool,
    allowed_urls: tuple[str, ...] = (),
) -> None:
    install_log_redaction()
    try:
        destinations = DestinationPolicy.from_env(os.environ).allowing(allowed_urls)
    except ValueError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        integration = load_integration(integration_file)
        secret_data: SecretData = load_secret_files(list(secret_files))
        for index, document in enumerate(integration.other_documents):
            if document.get("kind") == "Secret":
                name, values = secret_from_document(document, f"{integration_file} document {index + 1}")
                secret_data.setdefault(name, {}).update(values)
        secrets = resolve_secrets(integration.spec, secret_data)
    except ConfigurationError as err:
        echo(f"error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    reports: list[RunReport] = []

    async def run() -> None:
        # The report is handed out through a list, not as the coroutine's result: asyncio.run (3.11) formats
        # the repr of the finished main task, result included, when it restores the SIGINT handler, which
        # costs about a second for a report of 10,000 people.
        reports.append(
            await run_integration(
                integration.spec,
                secrets,
                trigger=Trigger.TEST if dry_run else Trigger.MANUAL,
                started_by=started_by or _login_name(),
                dry_run=dry_run,
                destinations=destinations,
            )
        )

    asyncio.run(run())
    report = reports[0]
    click.echo(_as_json(report, with_plan=dry_run) if as_json else redact(_as_text(report)))
    sys.exit(EXIT_OK if report.succeeded else EXIT_FAILED)


def _as_json(report: RunReport, *, with_plan: bool) -> str:
    """The run report; for a Test also the plan itself (every operation with its field-level changes)."""
    data = report.model_dump(mode="json", by_alias=True)
    if with_plan and report.plan is not None:
        data["plan"] = report.plan.model_dump(mode="json", exclude={"users": {"__all__": {"desired"}}})
    return json.dumps(redact_data(data), indent=2, ensure_ascii=False)  # redacted before encoding: stays JSON


def _as_text(report: RunReport) -> str:
    parts = []
    if report.plan_text:
        parts += [report.plan_text, ""]
    parts += [render_run_table([report]), "", render_report(report, with_warnings=not report.plan_text)]
    return "\n".join(parts)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"
