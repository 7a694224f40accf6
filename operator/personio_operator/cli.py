"""The ``personio-operator`` command. Each area registers its own subcommands."""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from personio_operator import __version__
from personio_operator.api.cli import register as register_api
from personio_operator.controller.cli import register as register_controller
from personio_operator.redaction import install_log_redaction
from personio_operator.sync.cli import register as register_sync


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="personio-operator")
def main() -> None:
    """Keep an application's users and teams (SCIM 2.0) in step with Personio."""
    install_log_redaction()  # every subcommand: no log record leaves the process unredacted


register_sync(main)
register_controller(main)
register_api(main)
# Installed add-ons bring their own subcommands (the test kit: ``sandbox`` and ``demo``). One that
# cannot be imported here is left out rather than stopping the operator's own commands.
for plugin in entry_points(group="personio_operator.commands"):
    try:
        register_plugin = plugin.load()
    except ImportError:
        continue
    register_plugin(main)
