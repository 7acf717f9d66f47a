"""`ridgeline import`: results files into the ledger."""

from __future__ import annotations

import click

from ridgeline.cli.options import format_number, ledger_command, print_json
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.readers.results import ImportReport, import_results


def parse_objective_option(text: str) -> tuple[str, str]:
    """`NAME:max` or `NAME:min` from `--objective`."""
    name, separator, direction = text.rpartition(":")
    if not separator or not name.strip() or direction.strip() not in ("max", "min"):
        raise InputError(f"expected NAME:max or NAME:min, got {text!r}", field="--objective")
    return name.strip(), direction.strip()


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--objective", "objectives", multiple=True, metavar="NAME:max|min",
              help="An objective column and its direction; repeat for several. "
              "Overrides what the importer would infer.")
@click.option("--sidecar", type=click.Path(dir_okay=False),
              help="A TOML file of objectives (unit, baseline, ideal) and a start time; "
              "default: FILE with the suffix .toml, if it exists.")
@click.option("--skip-bad", is_flag=True, help="Skip malformed rows and list them.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@ledger_command
def import_command(
    ledger: Ledger, file: str, objectives, sidecar: str | None, skip_bad: bool, as_json: bool
) -> None:
    """Import a tab-separated results file (autoresearch's results.tsv and relatives).

    Importing the same file again adds only rows appended since.
    """
    given = dict(parse_objective_option(text) for text in objectives)
    report = import_results(ledger, file, objectives=given, skip_bad=skip_bad, sidecar=sidecar)
    explain(report)
    if as_json:
        print_json(report.to_dict())
    else:
        print_summary(report)


def explain(report: ImportReport) -> None:
    """What the importer decided and why, on stderr, so --json output stays clean."""
    for choice in report.objectives:
        click.echo(f"objective {choice.name}: {choice.direction} ({choice.why})", err=True)
    if report.regime_column:
        click.echo(f"regime column: {report.regime_column}", err=True)
    for skipped in report.skipped:
        click.echo(f"skipped line {skipped.line}: {skipped.reason}", err=True)
    for name, lines in list(report.scattered_versions.items())[:5]:
        shown = ", ".join(map(str, lines[:6])) + (", ..." if len(lines) > 6 else "")
        click.echo(
            f"warning: identifier {name!r} comes back on lines {shown}; its rows are one "
            "version (give them distinct identifiers if they are different experiments)",
            err=True,
        )


def print_summary(report: ImportReport) -> None:
    click.echo(
        f"{report.file}: {report.rows} rows, {report.imported} imported, "
        f"{report.already_present} already present, {len(report.skipped)} skipped"
    )
    statuses = ", ".join(f"{word} {count}" for word, count in report.statuses.items())
    click.echo(f"statuses: {statuses or 'none'}; crashes: {report.crashes}")
    if report.other_statuses:
        others = ", ".join(f"{w} {c}" for w, c in report.other_statuses.items())
        click.echo(f"other status words (kept on each run's reason): {others}")
    for name, value in report.best.items():
        click.echo(f"best {name}: {format_number(value)}")
    if report.side_metrics:
        click.echo(f"side metrics: {', '.join(report.side_metrics)}")


COMMANDS = [import_command]
