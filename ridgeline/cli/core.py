"""Commands over the core model: objectives, versions, runs and the frontier."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.models import DIRECTIONS, INTENTS, OUTCOMES, VERSION_STATUSES
from ridgeline.cli.options import (
    emit,
    format_number,
    json_option,
    ledger_command,
    print_json,
    print_table,
)

RUN_COLUMNS = ["id", "at", "version", "intent", "outcome", "metrics", "description"]


@click.command()
@ledger_command
def init(ledger: Ledger) -> None:
    """Create the ledger (or open an existing one) and say where it is."""
    click.echo(f"ledger: {ledger.location}")


# -- objectives ------------------------------------------------------------------------


@click.group()
def objective() -> None:
    """Declare and list objectives (metrics with a direction)."""


@objective.command("add")
@click.argument("name")
@click.option("--direction", type=click.Choice(DIRECTIONS), required=True)
@click.option("--unit", help="Unit shown on charts, e.g. tok/s.")
@click.option("--baseline", type=float, help="A figure to beat (a competitor, the start).")
@click.option("--ideal", type=float, help="A limit that cannot be passed.")
@ledger_command
def objective_add(ledger: Ledger, name: str, direction: str, unit, baseline, ideal) -> None:
    """Add an objective NAME, or update the one of that name."""
    added = ledger.add_objective(name, direction, unit=unit, baseline=baseline, ideal=ideal)
    click.echo(f"objective {added.name}: {added.direction}imize")


@objective.command("list")
@json_option
@ledger_command
def objective_list(ledger: Ledger, as_json: bool) -> None:
    """List the objectives."""
    emit(ledger.objectives(), as_json, ["name", "direction", "unit", "baseline", "ideal"])


# -- versions --------------------------------------------------------------------------


@click.group()
def version() -> None:
    """Name versions and say where they came from."""


@version.command("set")
@click.argument("name")
@click.option("--parent", "parents", multiple=True, help="A parent version; repeat for several.")
@click.option("--regime", help="The family of technique this version belongs to.")
@click.option("--status", type=click.Choice(VERSION_STATUSES))
@click.option("--commit", help="The git commit holding this version.")
@click.option("--description", help="What this version changes.")
@ledger_command
def version_set(ledger: Ledger, name: str, parents, regime, status, commit, description) -> None:
    """Create version NAME or change the fields given (parents are replaced)."""
    saved = ledger.set_version(
        name,
        parents=list(parents) if parents else None,
        regime=regime,
        status=status,
        commit=commit,
        description=description,
    )
    parents_text = ", ".join(saved.parents) or "none"
    click.echo(f"version {saved.name}: {saved.status}, parents {parents_text}")


@click.command()
@json_option
@ledger_command
def versions(ledger: Ledger, as_json: bool) -> None:
    """List every version with its parents, regime, status and latest validation verdict."""
    from ridgeline.analysis.validation import EVENT_KIND, latest_verdicts

    verdicts = latest_verdicts(ledger.events(EVENT_KIND))
    rows = [
        {**v.to_dict(), "validation": verdicts.get(v.name, {}).get("verdict")}
        for v in ledger.versions()
    ]
    emit(rows, as_json, ["name", "parents", "regime", "status", "commit", "validation"])


# -- runs ------------------------------------------------------------------------------

# Keys accepted by `record --json-in`, beside `metrics`; each maps to a Ledger.record argument.
_RECORD_KEYS = {
    "version", "metrics", "intent", "outcome", "reason", "commit", "tool_calls", "at",
    "description", "duration", "command", "exit_status", "artifacts", "key", "agent",
    "session", "dirty", "diff_hash",
}


def parse_metric_option(text: str) -> tuple[str, str]:
    """`NAME=VALUE` from `--metric`, with the option named in the error."""
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise InputError(f"expected NAME=VALUE, got {text!r}", field="--metric")
    return name.strip(), value.strip()


def read_record_json(stream) -> dict[str, Any]:
    """One JSON object from stdin, checked for unknown keys."""
    text = stream.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON: {error.msg}", file="<stdin>", line=error.lineno
        ) from None
    if not isinstance(data, dict):
        raise InputError("expected one JSON object", file="<stdin>")
    unknown = sorted(set(data) - _RECORD_KEYS)
    if unknown:
        raise InputError(
            f"unknown key; expected some of {', '.join(sorted(_RECORD_KEYS))}",
            file="<stdin>",
            field=unknown[0],
        )
    if "metrics" in data and not isinstance(data["metrics"], dict):
        raise InputError("expected an object of NAME: VALUE", file="<stdin>", field="metrics")
    return data


@click.command()
@click.option("--version", "version_name", help="The version that ran (created if new).")
@click.option("--metric", "metrics", multiple=True, metavar="NAME=VALUE", help="Repeatable.")
@click.option("--intent", type=click.Choice(INTENTS), default=None)
@click.option("--outcome", type=click.Choice(OUTCOMES), default=None)
@click.option("--reason", help="Why it crashed, or what was notable.")
@click.option("--commit", help="The git commit that ran.")
@click.option("--tool-calls", type=click.IntRange(min=0), help="Cumulative tool calls so far.")
@click.option("--at", "at", metavar="ISO-8601", help="When it ran; now by default.")
@click.option("--description", help="What this run tried.")
@click.option("--duration", type=float, help="Seconds the benchmark took.")
@click.option("--command", "command_text", help="The benchmark command line.")
@click.option("--key", help="Idempotency key: recording the same key twice stores one run.")
@click.option("--json-in", is_flag=True, help="Read the run as one JSON object on stdin.")
@json_option
@ledger_command
def record(ledger: Ledger, version_name, metrics, json_in: bool, as_json: bool, **fields) -> None:
    """Record one benchmark run. A crash may carry no metric."""
    data: dict[str, Any] = read_record_json(sys.stdin) if json_in else {}
    if version_name is not None and not version_name.strip():
        raise InputError("an empty version name; leave --version out for no version",
                         field="--version")
    if version_name:
        data["version"] = version_name
    if metrics:
        data.setdefault("metrics", {}).update(parse_metric_option(m) for m in metrics)
    renamed = {"command_text": "command"}
    for option, value in fields.items():
        if value is not None:
            data[renamed.get(option, option)] = value
    run = ledger.record(**data)
    if run.version and run.intent == "attempt" and ledger.version(run.version).status == "failed":
        # Not an error, but a user expecting a record deserves to know why none came.
        click.echo(f"note: version {run.version} is marked failed, so this run cannot set a "
                   "record", err=True)
    if as_json:
        print_json(run.to_dict())
        return
    values = " ".join(f"{k}={format_number(v)}" for k, v in run.metrics.items())
    click.echo(f"run {run.id}: {run.version or '-'} {run.intent} {run.outcome} {values}".rstrip())


@click.command()
@click.option("--limit", type=click.IntRange(min=0), help="Only the newest N runs.")
@click.option("--version", "version_name", help="Only runs of this version.")
@json_option
@ledger_command
def runs(ledger: Ledger, limit: int | None, version_name: str | None, as_json: bool) -> None:
    """List runs, oldest first (every run unless limited)."""
    emit(ledger.runs(limit=limit, version=version_name), as_json, RUN_COLUMNS)


@click.command()
@click.argument("run_id", type=int, metavar="RUN")
@json_option
@ledger_command
def show(ledger: Ledger, run_id: int, as_json: bool) -> None:
    """Show everything recorded about one run."""
    data = ledger.run(run_id).to_dict()
    if as_json:
        print_json(data)
        return
    for name, value in data.items():
        if name == "metrics":
            for metric, number in value.items():
                click.echo(f"metric.{metric}: {format_number(number)}")
        elif value not in (None, [], {}):
            click.echo(f"{name}: {value}")


@click.command()
@json_option
@ledger_command
def frontier(ledger: Ledger, as_json: bool) -> None:
    """The best-so-far staircase of each objective and, for several, the Pareto set."""
    data = ledger.frontier()
    if as_json:
        print_json(data)
        return
    print_frontier(data)


def print_frontier(data: dict[str, Any]) -> None:
    """The frontier as people read it: a line per objective, then its records."""
    if not data["objectives"]:
        click.echo("no objectives yet: add one with 'ridgeline objective add NAME --direction'")
    for item in data["objectives"]:
        best = item["best"]
        best_text = (
            f"{format_number(best['value'])} ({best['version'] or 'run ' + str(best['run'])})"
            if best
            else "no counted run yet"
        )
        unit = f" {item['unit']}" if item["unit"] else ""
        click.echo(f"{item['name']} ({item['direction']}{unit}): best {best_text}")
        extras = []
        if item["baseline"] is not None:
            extras.append(f"baseline {format_number(item['baseline'])}")
        if item["ideal"] is not None:
            extras.append(f"ideal {format_number(item['ideal'])}")
        if item["headroom"] is not None:
            extras.append(f"headroom {item['headroom']:.0%} of the baseline-to-ideal gap")
        if extras:
            click.echo("  " + ", ".join(extras))
        steps = " -> ".join(
            f"{format_number(r['value'])} ({r['version'] or r['run']})" for r in item["records"]
        )
        if steps:
            click.echo(f"  records: {steps}")
    if "pareto" in data:
        click.echo("pareto set:")
        print_table(
            [{"run": p["run"], "version": p["version"], **p["values"]} for p in data["pareto"]],
            ["run", "version", *[o["name"] for o in data["objectives"]]],
        )


COMMANDS = [init, objective, version, versions, record, runs, show, frontier]
