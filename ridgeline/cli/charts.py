"""Commands that draw: `chart evolution`, `chart pareto`, `report` and `serve`.

Chart and server libraries are imported inside the commands, so `ridgeline record` in a
hook never pays for them.
"""

from __future__ import annotations

from pathlib import Path

import click

from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.cli.options import check_explicit_location, command_name, ledger_command

output_option = click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
    help="The file to write: .png, .svg or .html.",
)


def _extension(output: str) -> str:
    extension = Path(output).suffix.lower().lstrip(".")
    if extension not in ("png", "svg", "html"):
        raise InputError(
            f"expected a .png, .svg or .html file, got {Path(output).name!r}", field="--output"
        )
    return extension


@click.group()
def chart() -> None:
    """Draw the evolution or Pareto chart to a PNG, SVG or HTML file."""


@chart.command("evolution")
@click.option("--objective", help="The objective on the Y axis (default: the first).")
@click.option("--log", is_flag=True, help="A logarithmic Y axis.")
@output_option
@ledger_command
def chart_evolution(ledger: Ledger, objective: str | None, log: bool, output: str) -> None:
    """The objective over active time: attempts, records, crashes, the frontier."""
    from ridgeline.analysis import chartdata

    extension = _extension(output)
    data = chartdata.evolution_of(ledger, objective)
    if extension == "html":
        from ridgeline import report

        report.write_html(report.evolution_page(data, log=log), output)
    else:
        from ridgeline import charts

        charts.save(charts.draw_evolution(data, log=log), output)
    click.echo(f"wrote {output}: {len(data.dots)} runs drawn, {data.count('record')} records")


@chart.command("pareto")
@click.option("--x", "x_name", help="The objective on the X axis (default: the first).")
@click.option("--y", "y_name", help="The objective on the Y axis (default: the second).")
@output_option
@ledger_command
def chart_pareto(ledger: Ledger, x_name: str | None, y_name: str | None, output: str) -> None:
    """Two objectives against each other: the frontier path and the failed trials."""
    from ridgeline.analysis import chartdata

    extension = _extension(output)
    data = chartdata.pareto_of(ledger, x_name, y_name)
    if extension == "html":
        from ridgeline import report

        report.write_html(report.pareto_page(data), output)
    else:
        from ridgeline import charts

        charts.save(charts.draw_pareto(data), output)
    click.echo(
        f"wrote {output}: {len(data.frontier)} committed, {len(data.failed)} failed versions"
    )


@click.command()
@click.option(
    "-o", "--output", "output", default="report.html", show_default=True,
    type=click.Path(dir_okay=False), help="The HTML file to write.",
)
@ledger_command
def report(ledger: Ledger, output: str) -> None:
    """Write one self-contained HTML report: charts, frontier, regimes, lessons."""
    from ridgeline import report as report_module

    report_module.write_html(report_module.build_report(ledger), output)
    click.echo(f"wrote {output}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token", envvar="RIDGELINE_TOKEN",
    help="Require 'Authorization: Bearer TOKEN' on every request (or RIDGELINE_TOKEN). "
    "Needed to bind anything but a loopback address.",
)
@click.option("--db", "db", metavar="PATH|URL", help="The ledger (see ridgeline --help).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token: str | None, db: str | None) -> None:
    """Serve the JSON API and the live dashboard."""
    from ridgeline import server

    location = db or (ctx.find_root().obj or {}).get("db")
    check_explicit_location(location, command_name(ctx))
    server.check_bind(host, token)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving the dashboard on http://{shown}:{port}/ (Ctrl-C to stop)")
    server.serve(location, host=host, port=port, token=token)


COMMANDS = [chart, report, serve]
