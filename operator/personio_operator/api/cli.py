"""``personio-operator crd``: print or write the CRD generated from the models."""

from __future__ import annotations

from pathlib import Path

import click

from personio_operator.api.crd import render_crd_yaml


@click.command("crd")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CRD to this file instead of standard output.",
)
def crd_command(output: Path | None) -> None:
    """Print the PersonioIntegration CRD generated from the pydantic models.

    Regenerate the committed copies after changing api/spec.py or api/status.py:

      personio-operator crd -o crds/personiointegrations.hrsync.dev.yaml

      personio-operator crd -o charts/personio-operator/crds/personiointegrations.hrsync.dev.yaml
    """
    text = render_crd_yaml()
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


def register(group: click.Group) -> None:
    """Add this area's subcommands to the ``personio-operator`` group."""
    group.add_command(crd_command)
