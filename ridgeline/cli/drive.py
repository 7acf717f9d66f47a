"""Commands that drive a run: bench, validate, regimes, advise, status, budget."""

from __future__ import annotations

import statistics
import sys
from typing import Any

import click

from ridgeline import benchrun
from ridgeline.analysis import advice as advice_module
from ridgeline.analysis import regimes as regimes_module
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
@click.option("--version", "version_name",
              help="Version name; default: the commit's short sha (+ diff hash if dirty).")
@click.option("--intent", type=click.Choice(INTENTS), default="attempt", show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds before the command is stopped and recorded as a crash.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--objective", "objectives", multiple=True, metavar="NAME[:max|min]",
              help="A metric that must be printed; default: every declared objective.")
@click.option("--description", help="What this run tries.")
@click.option("--tool-calls", type=click.IntRange(min=0), help="Cumulative tool calls so far.")
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@ledger_command
def bench(ledger: Ledger, version_name, intent, timeout, repeat, objectives, description,
          tool_calls, as_json: bool, command: tuple[str, ...]) -> None:
    """Run a benchmark COMMAND (after --), record its runs and say how it compares.

    The command's output passes through live (with --json its stdout goes to stderr);
    ridgeline exits with the command's exit status (124 on timeout).
    """
    required = _parse_objectives(ledger, objectives)
    out = sys.stderr.buffer if as_json else sys.stdout.buffer
    results = benchrun.bench(
        ledger, list(command), version=version_name, intent=intent, timeout=timeout,
        repeat=repeat, required=required, description=description, tool_calls=tool_calls,
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
    if not result.comparisons:
        values = " ".join(f"{k}={format_number(v)}" for k, v in run.metrics.items())
        _say(f"run {run.id} ({run.version}): ok {values}; declare an objective "
             "('ridgeline objective add') to compare runs")
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
                     f"{_percent(item.change_from_best)}{_judgement(item, item.best)}")
    if item.baseline is not None:
        parts.append(f"baseline {format_number(item.baseline)} "
                     f"{_percent(item.change_from_baseline)}{_judgement(item, item.baseline)}")
    return ", ".join(parts)


def _judgement(item: benchrun.Comparison, reference: float) -> str:
    # A signed percentage alone misleads for objectives to minimize; say which way it went.
    if item.value == reference:
        return ""
    better = item.value > reference if item.direction == "max" else item.value < reference
    return " better" if better else " worse"


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


# -- validate ---------------------------------------------------------------------------


class _CommandAfterDashes(click.Command):
    """Keeps what follows `--` aside (click would merge it into the arguments)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["ridgeline.command"] = args[at + 1:]
            args = args[:at]
        return super().parse_args(ctx, args)


@click.command(cls=_CommandAfterDashes)
@click.argument("names", nargs=-1, metavar="[VERSION ...] [-- CMD ...]")
@click.option("--repeat", type=click.IntRange(min=2), default=benchrun.DEFAULT_VALIDATION_REPEAT,
              show_default=True, help="Validation runs per version.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds before one run is stopped and recorded as a crash.")
@click.option("--limit", type=click.IntRange(min=1), default=3, show_default=True,
              help="Without VERSION: how many of the longest-unvalidated versions.")
@json_option
@ledger_command
def validate(ledger: Ledger, names: tuple[str, ...], repeat: int, timeout, limit: int,
             as_json: bool) -> None:
    """Re-run VERSIONs at their commits in temporary worktrees and flag regressions.

    Without VERSION, the committed versions that have gone longest without validation.
    Without CMD, the command recorded with each version's runs. Each version is compared
    with its earlier runs by a one-sided rank test at 1%; exits 3 on a regression.
    """
    command = click.get_current_context().meta.get("ridgeline.command", [])
    out = sys.stderr.buffer if as_json else sys.stdout.buffer
    verdicts = benchrun.validate(
        ledger, names or None, repeat=repeat, argv=command or None, timeout=timeout,
        limit=limit, stdout=out, stderr=sys.stderr.buffer,
    )
    if as_json:
        print_json([v.to_dict() for v in verdicts])
    elif not verdicts:
        click.echo("nothing to validate: no committed version with a recorded commit")
    for verdict in verdicts if not as_json else ():
        click.echo(f"{verdict.version}: {verdict.verdict.upper()}: {verdict.reason}")
        for item in verdict.comparisons:
            click.echo("  " + _describe_sample(item))
    if any(v.verdict == "regression" for v in verdicts):
        sys.exit(3)


def _describe_sample(item: Any) -> str:
    if item.verdict == "inconclusive":
        return f"{item.objective}: inconclusive ({len(item.earlier)} earlier, " \
               f"{len(item.fresh)} new values)"
    old = format_number(statistics.median(item.earlier))
    new = format_number(statistics.median(item.fresh))
    p_text = "" if item.p_value is None else f", p={item.p_value:.3g}"
    change = _percent(item.relative_shift if item.direction == "min"
                      else None if item.relative_shift is None else -item.relative_shift)
    return (f"{item.objective}: median {old} -> {new} ({change}; {item.method}{p_text}; "
            f"{len(item.earlier)} earlier, {len(item.fresh)} new)")


@click.command()
@json_option
@ledger_command
def validations(ledger: Ledger, as_json: bool) -> None:
    """The latest validation verdict of each version, oldest first."""
    from ridgeline.analysis.validation import EVENT_KIND, latest_verdicts

    rows = [
        {"version": name, "verdict": data.get("verdict"), "reason": data.get("reason"),
         "commit": data.get("commit"), "runs": data.get("runs", []),
         "at": data["at"].isoformat().replace("+00:00", "Z")}
        for name, data in latest_verdicts(ledger.events(EVENT_KIND)).items()
    ]
    rows.sort(key=lambda row: row["at"])
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["version", "verdict", "reason", "at"])


# -- regimes, advice, status, budget ----------------------------------------------------


@click.command()
@json_option
@ledger_command
def regimes(ledger: Ledger, as_json: bool) -> None:
    """Per regime: attempts, records, attempts since the last record, crashes, best gain."""
    summaries = regimes_module.summarize_regimes(
        ledger.objectives(), ledger.versions(), ledger.runs(), ledger.run_points()
    )
    rows = [s.to_dict() for s in summaries]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["crash_rate"] = _percent(row["crash_rate"]).lstrip("+") or None
        row["best_gain"] = _percent(row["best_gain"]) or None
        row["exhausted"] = "EXHAUSTED" if row["exhausted"] else "-"
    print_table(rows, ["name", "attempts", "records", "since_record", "crash_rate",
                       "best_gain", "exhausted"])


@click.command()
@json_option
@ledger_command
def advise(ledger: Ledger, as_json: bool) -> None:
    """What to do next, from the ledger alone."""
    items = advice_module.advise(ledger)
    if as_json:
        print_json([item.to_dict() for item in items])
        return
    if not items:
        click.echo("no advice: nothing exhausted, no unexplained crash cluster, nothing due")
    for item in items:
        click.echo(f"{item.action}: {item.reason}")


@click.command()
@json_option
@ledger_command
def status(ledger: Ledger, as_json: bool) -> None:
    """Where this checkout's HEAD stands in the ledger, and what was tried from it."""
    data = benchrun.workspace_status(ledger)
    if as_json:
        print_json(data)
        return
    for line in data["message"]:
        click.echo(line)
    verdict = data["validation"]
    if verdict:
        click.echo(f"last validation: {verdict['verdict']} ({verdict['reason']})")
    for child in data["tried_from_here"]:
        values = " ".join(f"{k}={format_number(v)}" for k, v in child["metrics"].items())
        extra = f" last crash: {child['last_reason']}" if child["crashes"] else ""
        click.echo(f"  {child['version']}: {child['status']}, regime {child['regime'] or '-'}"
                   f", {values or 'no ok run'}{extra}")


@click.group()
def budget() -> None:
    """The effort's budget, in hours or tool calls, for advice on validation time."""


@budget.command("set")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True))
@click.option("--tool-calls", type=click.IntRange(min=1))
@ledger_command
def budget_set(ledger: Ledger, hours: float | None, tool_calls: int | None) -> None:
    """Set the budget (either or both)."""
    if hours is None and tool_calls is None:
        raise InputError("give --hours, --tool-calls or both", field="--hours")
    if hours is not None:
        ledger.set_setting(advice_module.HOURS_SETTING, hours)
    if tool_calls is not None:
        ledger.set_setting(advice_module.TOOL_CALLS_SETTING, tool_calls)
    _print_budget(ledger, as_json=False)


@budget.command("show")
@json_option
@ledger_command
def budget_show(ledger: Ledger, as_json: bool) -> None:
    """Show the budget."""
    _print_budget(ledger, as_json)


def _print_budget(ledger: Ledger, as_json: bool) -> None:
    data = {
        "hours": ledger.get_setting(advice_module.HOURS_SETTING),
        "tool_calls": ledger.get_setting(advice_module.TOOL_CALLS_SETTING),
    }
    if as_json:
        print_json(data)
    else:
        click.echo(f"budget: {data['hours'] or '-'} h, {data['tool_calls'] or '-'} tool calls")


COMMANDS: list[Any] = [
    bench, bench_pattern, validate, validations, regimes, advise, status, budget
]
