"""Commands that drive a run: bench, validate, regimes, advise, status, budget."""

from __future__ import annotations

import sys
from typing import Any

import click

from ridgeline import benchrun
from ridgeline.cli.options import (
    format_number,
    json_option,
    ledger_command,
    print_json,
    print_table,
)
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.models import DIRECTIONS, INTENTS
from ridgeline.outputs import PATTERNS_SETTING, compile_patterns

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def _say(text: str) -> None:
    # The benchmark owns stdout while it runs; ridgeline's own lines go to stderr.
    click.echo(f"ridgeline: {text}", err=True)


def _parse_objectives(ledger: Ledger, specs: tuple[str, ...]) -> list[str] | None:
    """`NAME` requires a declared objective; `NAME:max` also declares it if new."""
    if not specs:
        return None
    known = {o.name for o in ledger.objectives()}
    names = []
    for spec in specs:
        name, _, direction = spec.partition(":")
        if direction:
            if direction not in DIRECTIONS:
                raise InputError(f"expected NAME or NAME:max|min, got {spec!r}",
                                 field="--objective")
            if name not in known:
                ledger.add_objective(name, direction)
        names.append(name)
    return names


# -- bench ------------------------------------------------------------------------------


@click.command(context_settings=_PASS_THROUGH)
@click.option("--version", "version_name", help="Version name; default: the commit's short sha.")
@click.option("--intent", type=click.Choice(INTENTS), default="attempt", show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds before the command is stopped and recorded as a crash.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--objective", "objectives", multiple=True, metavar="NAME[:max|min]",
              help="A metric that must be printed; default: every declared objective.")
@click.option("--description", help="What this run tries.")
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@ledger_command
def bench(ledger: Ledger, version_name, intent, timeout, repeat, objectives, description,
          as_json: bool, command: tuple[str, ...]) -> None:
    """Run a benchmark COMMAND (after --), record its runs and say how it compares.

    The command's output passes through live (with --json its stdout goes to stderr);
    ridgeline exits with the command's exit status (124 on timeout).
    """
    required = _parse_objectives(ledger, objectives)
    out = sys.stderr.buffer if as_json else sys.stdout.buffer
    results = benchrun.bench(
        ledger, list(command), version=version_name, intent=intent, timeout=timeout,
        repeat=repeat, required=required, description=description,
        stdout=out, stderr=sys.stderr.buffer,
    )
    if as_json:
        print_json([result.to_dict() for result in results])
    else:
        for result in results:
            _print_verdict(result)
    failed = [r.exit_status for r in results if r.exit_status != 0]
    sys.exit(failed[0] if failed else 0)


def _print_verdict(result: benchrun.BenchResult) -> None:
    run = result.run
    if run.outcome == "crash":
        _say(f"run {run.id} ({run.version}): crash: {run.reason} (log {run.artifacts[0]})")
        return
    label = "NEW RECORD" if result.record else "no record"
    _say(f"run {run.id} ({run.version}): {label}")
    for item in result.comparisons:
        _say("  " + _describe_comparison(item))


def _describe_comparison(item: benchrun.Comparison) -> str:
    if item.value is None:
        return f"{item.objective}: no value"
    parts = [f"{item.objective} {format_number(item.value)}"]
    if item.best is not None:
        parts.append(f"best {format_number(item.best)} ({item.best_version}) "
                     f"{_percent(item.change_from_best)}")
    if item.baseline is not None:
        parts.append(f"baseline {format_number(item.baseline)} "
                     f"{_percent(item.change_from_baseline)}")
    return ", ".join(parts)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:+.2%}"


@click.group("bench-pattern")
def bench_pattern() -> None:
    """Regular expressions that read metrics from benchmark output."""


@bench_pattern.command("add")
@click.argument("pattern")
@ledger_command
def bench_pattern_add(ledger: Ledger, pattern: str) -> None:
    """Add PATTERN, a regex whose named groups are metrics: 'tok/s=(?P<tok_per_sec>[0-9.]+)'."""
    compile_patterns([pattern])
    patterns = list(ledger.get_setting(PATTERNS_SETTING, []) or [])
    if pattern not in patterns:
        patterns.append(pattern)
    ledger.set_setting(PATTERNS_SETTING, patterns)
    click.echo(f"{len(patterns)} pattern(s)")


@bench_pattern.command("list")
@json_option
@ledger_command
def bench_pattern_list(ledger: Ledger, as_json: bool) -> None:
    """List the patterns."""
    patterns = ledger.get_setting(PATTERNS_SETTING, []) or []
    if as_json:
        print_json(patterns)
    else:
        print_table([{"n": i, "pattern": p} for i, p in enumerate(patterns)], ["n", "pattern"])


@bench_pattern.command("remove")
@click.argument("pattern")
@ledger_command
def bench_pattern_remove(ledger: Ledger, pattern: str) -> None:
    """Remove PATTERN (as listed)."""
    patterns = list(ledger.get_setting(PATTERNS_SETTING, []) or [])
    if pattern not in patterns:
        raise InputError(f"no such pattern: {pattern!r}; see 'ridgeline bench-pattern list'")
    patterns.remove(pattern)
    ledger.set_setting(PATTERNS_SETTING, patterns)
    click.echo(f"{len(patterns)} pattern(s)")


COMMANDS: list[Any] = [bench, bench_pattern]
