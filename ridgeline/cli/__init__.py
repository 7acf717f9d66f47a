"""The `ridgeline` command line.

Each area of the CLI lives in its own module exposing `COMMANDS`, a list of click commands
and groups; `main` loads them lazily so that a hook calling `ridgeline` on every tool use
does not pay for the chart or server imports it never uses.
"""

from __future__ import annotations

import importlib
import sys

import click

from ridgeline.errors import RidgelineError

# Modules that contribute commands, in the order `ridgeline --help` lists them.
COMMAND_MODULES = [
    "ridgeline.cli.core",
    "ridgeline.cli.memory",
    "ridgeline.cli.drive",
    "ridgeline.cli.teams",
    "ridgeline.cli.importing",
    "ridgeline.cli.demo",
    "ridgeline.cli.charts",
    "ridgeline.cli.traces",
    "ridgeline.cli.agents",
]


class _RidgelineGroup(click.Group):
    """A group that turns ridgeline's own errors into one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except RidgelineError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            # Ctrl-C: what was recorded before it stays recorded; exit as shells expect.
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # `ridgeline runs | head` closes the pipe early; that is not an error.
            sys.stderr.close()
            ctx.exit(0)


@click.group(cls=_RidgelineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db",
    metavar="PATH|URL",
    envvar="RIDGELINE_DB",
    help="The ledger: a SQLite file or a postgresql:// URL. Default: inside the git "
    "directory of the current repository, else ./ridgeline.db.",
)
@click.version_option(package_name="ridgeline")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Ridgeline: a durable memory for long-running optimization agents."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


def _load_commands() -> None:
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        for command in module.COMMANDS:
            main.add_command(command)


_load_commands()
