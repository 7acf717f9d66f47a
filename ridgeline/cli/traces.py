"""`ridgeline trace analyze|import` and `ridgeline score`: learning from transcripts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

import ridgeline
from ridgeline.analysis.behaviour import LedgerSnapshot, score_behaviour
from ridgeline.cli.options import format_number, ledger_command, print_json, print_table
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.location import resolve_location
from ridgeline.readers.evolve import import_checkpoint, looks_like_checkpoint
from ridgeline.readers.traces import TraceAnalysis, analyze_trace, bench_settings, import_trace
from ridgeline.redact import redact

_SHOWN_MALFORMED = 20

bench_pattern_option = click.option(
    "--bench-pattern", metavar="REGEX",
    help="A regular expression that marks benchmark commands. Default: the ledger's "
    "bench.pattern or bench.command setting, else commands mentioning bench, benchmark, "
    "hyperfine, perf stat or timeit.",
)


@click.group()
def trace() -> None:
    """Read agent transcripts and OpenEvolve checkpoints."""


@trace.command("analyze")
@click.argument("file", type=click.Path(exists=True))
@bench_pattern_option
@click.option("--db", "db", metavar="PATH|URL",
              help="The ledger whose benchmark settings to use (default: the usual "
              "ledger, if it exists); only read.")
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
@click.pass_context
def trace_analyze(ctx: click.Context, file: str, bench_pattern: str | None, db: str | None,
                  as_json: bool) -> None:
    """Sessions, tool calls over time, compactions, benchmark runs and failures in FILE."""
    if Path(file).is_dir():
        hint = (
            "an OpenEvolve checkpoint: bring it in with 'ridgeline trace import'"
            if looks_like_checkpoint(Path(file))
            else "a folder; give one transcript file"
        )
        raise InputError(hint, file=file)
    options = _settings(ctx, db)
    if bench_pattern:
        options.update(bench_pattern=bench_pattern, bench_command=None)
    analysis = analyze_trace(file, **options)
    _warn_malformed(analysis)
    if as_json:
        print_json(analysis.to_dict())
    else:
        _print_analysis(analysis)


def _settings(ctx: click.Context, db: str | None) -> dict[str, Any]:
    """The benchmark settings of the ledger named, or of the default ledger if one
    exists; analysing a transcript never creates a ledger."""
    location = resolve_location(db or (ctx.find_root().obj or {}).get("db"))
    if "://" not in location and not Path(location).is_file():
        return {}
    with ridgeline.open(location) as ledger:
        return bench_settings(ledger)


@trace.command("import")
@click.argument("file", type=click.Path(exists=True))
@bench_pattern_option
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
@ledger_command
def trace_import(ledger: Ledger, file: str, bench_pattern: str | None, as_json: bool) -> None:
    """Record FILE's benchmark runs, sessions and compactions in the ledger.

    FILE may also be an OpenEvolve checkpoint (its folder or metadata.json): its programs
    become versions with parents, and their scores runs. Importing again adds only what
    is new.
    """
    path = Path(file)
    if looks_like_checkpoint(path):
        summary = import_checkpoint(ledger, path)
    else:
        if path.is_dir():
            raise InputError("a folder, but not an OpenEvolve checkpoint", file=file)
        options = bench_settings(ledger)
        if bench_pattern:
            options.update(bench_pattern=bench_pattern, bench_command=None)
        analysis = analyze_trace(path, **options)
        _warn_malformed(analysis)
        summary = import_trace(ledger, path, analysis)
    if as_json:
        print_json(summary)
    else:
        _print_import(file, summary)


def _print_import(file: str, summary: dict[str, Any]) -> None:
    if summary["format"] == "openevolve":
        best = f"; best program {summary['best']}" if summary.get("best") else ""
        click.echo(f"{file}: OpenEvolve checkpoint, {summary['versions']} versions, "
                   f"{summary['runs']} new runs{best}")
        return
    click.echo(f"{file}: {summary['format']} transcript, {summary['runs']} new runs, "
               f"{summary['events']} new events")
    for objective in summary.get("objectives", []):
        click.echo(f"  objective {objective['name']}: {objective['direction']} (its name says "
                   "so; change it with 'ridgeline objective add')", err=True)
    if summary["recorded_by_agent"]:
        click.echo(f"  {summary['recorded_by_agent']} runs left out: the agent recorded "
                   "them itself")
    if summary["skipped"]:
        lines = ", ".join(map(str, summary["skipped"][:10]))
        click.echo(f"  {len(summary['skipped'])} benchmark commands showed no metric and "
                   f"no failure (lines {lines})")


@click.command("score")
@click.argument("trace_file", metavar="TRACE", type=click.Path(exists=True, dir_okay=False))
@click.option("--ledger", "ledger_location", metavar="PATH|URL",
              help="The ledger the agent used, to check what it said against what it held.")
@bench_pattern_option
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def score(trace_file: str, ledger_location: str | None, bench_pattern: str | None,
          as_json: bool) -> None:
    """Score how the agent in TRACE used its memory: writes, reads back, regressions,
    rollbacks; each in [0, 1], or null when the trace gave no opportunity."""
    snapshot, options = None, {}
    if ledger_location:
        snapshot, options = _ledger_snapshot(ledger_location)
    if bench_pattern:
        options.update(bench_pattern=bench_pattern, bench_command=None)
    analysis = analyze_trace(trace_file, **options)
    _warn_malformed(analysis)
    scores = score_behaviour(analysis.events, analysis.runs, snapshot)
    if as_json:
        print_json({"trace": trace_file, "format": analysis.format, "scores": scores})
        return
    _print_scores(scores)


def _ledger_snapshot(location: str) -> tuple[LedgerSnapshot, dict[str, Any]]:
    if "://" not in location and not Path(location).exists():
        raise InputError("no ledger here; give the path the agent's ledger lives at",
                         field="--ledger", file=location)
    with ridgeline.open(location) as ledger:
        objectives = ledger.objectives()
        runs = [(run.at.timestamp(), {k: v for k, v in run.metrics.items() if v is not None},
                 run.intent, run.outcome, run.version) for run in ledger.runs()]
        memory = [item.created_at.timestamp() for item in ledger.lessons() + ledger.notes()]
        snapshot = LedgerSnapshot(
            runs=runs, lessons=memory,
            objective=(objectives[0].name, objectives[0].direction) if objectives else None,
        )
        return snapshot, bench_settings(ledger)


# -- output ---------------------------------------------------------------------------------


def _warn_malformed(analysis: TraceAnalysis) -> None:
    for entry in analysis.malformed[:_SHOWN_MALFORMED]:
        click.echo(f"warning: {analysis.source} {analysis.unit} {entry['line']}: "
                   f"{entry['problem']}; skipped", err=True)
    hidden = analysis.malformed_count - min(len(analysis.malformed), _SHOWN_MALFORMED)
    if hidden > 0:
        click.echo(f"warning: {hidden} more malformed lines skipped", err=True)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _print_analysis(analysis: TraceAnalysis) -> None:
    echo = click.echo
    echo(f"format:          {analysis.format}")
    echo(f"span:            {_when(analysis.start)} .. {_when(analysis.end)} UTC")
    echo(f"sessions:        {len(analysis.sessions)}")
    hours = ((analysis.end - analysis.start) / 3600
             if analysis.start is not None and analysis.end is not None else 0)
    rate = f" ({analysis.tool_calls / hours:.0f} an hour)" if hours > 0 else ""
    echo(f"tool calls:      {analysis.tool_calls}{rate}")
    lines = ", ".join(str(c["line"]) for c in analysis.compactions[:10])
    echo(f"compactions:     {len(analysis.compactions)}" + (f" ({analysis.unit} {lines})"
                                                             if lines else ""))
    echo(f"failed commands: {analysis.failed_commands}")
    if analysis.crashes:
        echo(f"agent crashes:   {len(analysis.crashes)} ({analysis.crashes[0]['reason'][:60]})")
    if analysis.usage:
        echo("tokens:          " + ", ".join(f"{k} {v}" for k, v in analysis.usage.items()))
    if analysis.malformed_count:
        echo(f"malformed:       {analysis.malformed_count} {analysis.unit}s skipped")
    echo(f"benchmark runs:  {len(analysis.runs)}")
    if analysis.runs:
        rows = [{
            "line": run.line, "time": _when(run.at), "calls": run.tool_calls,
            "exit": run.exit_status,
            "metrics": " ".join(f"{k}={format_number(v)}" for k, v in run.metrics.items()),
            "command": redact(run.command),
        } for run in analysis.runs]
        print_table(rows, ["line", "time", "calls", "exit", "metrics", "command"])


def _print_scores(scores: dict[str, Any]) -> None:
    labels = {
        "writes": "(a) writes to memory",
        "reads": "(b) reads back consistently",
        "regressions": "(c) detects regressions",
        "rollbacks": "(d) recovers from rollbacks",
    }
    for name, label in labels.items():
        item = scores[name]
        value = "n/a (no opportunity)" if item["score"] is None else f"{item['score']:.2f}"
        click.echo(f"{label:<30} {value:<22} opportunities {item['opportunities']}")


COMMANDS = [trace, score]
