"""Commands for ledgers shared by a team: moving a ledger between backends."""

from __future__ import annotations

import click

import ridgeline
from ridgeline.cli.options import check_explicit_location, json_option, print_json, print_table
from ridgeline.location import resolve_location


@click.command()
@click.option(
    "--from",
    "source",
    metavar="PATH|URL",
    help="The ledger to copy (default: --db, RIDGELINE_DB, or the repository's ledger).",
)
@click.option("--to", "destination", metavar="PATH|URL", required=True, help="Where to copy it.")
@click.option("--replace", is_flag=True, help="Delete what the destination holds first.")
@json_option
@click.pass_context
def migrate(ctx: click.Context, source: str | None, destination: str, replace: bool,
            as_json: bool) -> None:
    """Copy a whole ledger to another backend, ids and history kept.

    For example `ridgeline migrate --from ledger.db --to postgresql://host/team` moves a
    SQLite ledger onto a server; swap the two to bring it back. The destination must be
    empty unless --replace is given.
    """
    source_location = resolve_location(source or (ctx.find_root().obj or {}).get("db"))
    # A mistyped source must not become a new, empty ledger copied over the destination.
    check_explicit_location(source_location, "runs")
    check_explicit_location(destination, "migrate")
    with ridgeline.open(source_location) as origin, ridgeline.open(destination) as target:
        report = origin.copy_into(target, replace=replace)
        rows = [{"table": table, "rows": count} for table, count in report.rows.items()]
        if as_json:
            print_json({"from": origin.location, "to": target.location, "tables": rows,
                        "artifacts": report.artifacts})
            return
        print_table(rows, ["table", "rows"])
        click.echo(
            f"copied {report.total} rows and {report.artifacts} artifact files from "
            f"{origin.location} to {target.location}"
        )


COMMANDS = [migrate]
