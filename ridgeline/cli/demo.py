"""`ridgeline demo`: a tour on real data."""

from __future__ import annotations

import click


@click.command()
@click.option("--db", "db", metavar="PATH", help="Keep the demo ledger in this SQLite file.")
def demo(db: str | None) -> None:
    """Import a real results file and the two published runs, and show their frontiers."""
    raise click.ClickException("the demo data is not bundled yet")


COMMANDS = [demo]
