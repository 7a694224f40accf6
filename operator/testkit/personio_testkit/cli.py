"""The test kit's subcommands of ``personio-operator``: ``sandbox`` and ``demo``.

They are registered through the ``personio_operator.commands`` entry point when the test kit is
installed (``make demo`` and ``make test`` install it); the operator package itself never imports it.
"""

from __future__ import annotations

import sys
import threading

import click

from personio_operator.redaction import install_log_redaction
from personio_operator.sync.cli import echo
from personio_testkit.personio_sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FixtureError,
    SandboxConfig,
    SandboxServer,
    generate_company,
    load_company,
)


@click.command("sandbox")
@click.option("--employees", default=50, show_default=True, type=click.IntRange(min=0), help="People to generate.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same company.")
@click.option("--port", default=8089, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True, help="Accepted client_id.")
@click.option(
    "--client-secret",
    default=DEFAULT_CLIENT_SECRET,
    show_default=True,
    envvar="PERSONIO_SANDBOX_CLIENT_SECRET",
    help="Accepted client_secret (or env PERSONIO_SANDBOX_CLIENT_SECRET).",
)
@click.option("--no-rate-limits", is_flag=True, help="Turn Personio's rate limits off.")
@click.option(
    "--fixture",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve this exact company (JSON or YAML) instead of a generated one.",
)
def sandbox_command(
    employees: int,
    seed: int,
    port: int,
    client_id: str,
    client_secret: str,
    no_rate_limits: bool,
    fixture: str | None,
) -> None:
    """Serve a local Personio (v1 and v2 APIs) on 127.0.0.1 until Ctrl-C."""
    try:
        company = load_company(fixture) if fixture else generate_company(employees=employees, seed=seed)
    except FixtureError as error:
        raise click.ClickException(str(error)) from None
    config = SandboxConfig(client_id=client_id, client_secret=client_secret, rate_limits=not no_rate_limits)
    server = SandboxServer(company, config, port=port)
    try:
        server.start()
    except OSError as error:
        raise click.ClickException(f"Cannot listen on 127.0.0.1:{port}: {error.strerror}. Try --port 0.") from None
    source = f"fixture {fixture}" if fixture else f"{employees} generated people (seed {seed})"
    click.echo(f"Personio sandbox serving {source} at {server.base_url}")
    click.echo(f"  base URL:      {server.base_url}   (v1: {server.base_url}/v1, v2: {server.base_url}/v2)")
    click.echo(f"  client_id:     {client_id}")
    shown = client_secret if client_secret == DEFAULT_CLIENT_SECRET else "(as given)"
    click.echo(f"  client_secret: {shown}")
    click.echo(f"  rate limits:   {'off' if no_rate_limits else 'on'}")
    click.echo("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        server.stop()


@click.command("demo")
@click.option("--employees", default=40, show_default=True, type=click.IntRange(5, 2000), help="Size of the company.")
def demo_command(employees: int) -> None:
    """Offline tour: a Personio sandbox and a SCIM app on 127.0.0.1; Test, first run, HR changes, second run."""
    from personio_testkit.demo import run_demo

    install_log_redaction()
    sys.exit(run_demo(employees=employees, out=echo))


def register(group: click.Group) -> None:
    """Add the test kit's subcommands to the ``personio-operator`` group."""
    group.add_command(sandbox_command)
    group.add_command(demo_command)
