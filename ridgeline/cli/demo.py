"""`ridgeline demo`: three real or published runs imported and read back.

The demo imports a real autoresearch results file and the two published long runs, all
bundled in the package, into one SQLite ledger, then prints for each run its frontier,
where it stands against baseline and ideal, and what to look at next. Each run keeps its
own objectives, so its frontier is computed over its own runs only.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import click

import ridgeline
from ridgeline.analysis.frontier import compute_frontier
from ridgeline.cli.core import print_frontier
from ridgeline.cli.options import format_number
from ridgeline.ledger import Ledger
from ridgeline.readers.results import ImportReport, import_results

# (title, bundled file): the real file first, then the two published runs.
DEMO_FILES = [
    ("karpathy/autoresearch, one night of val_bpb experiments", "autoresearch/results.tsv"),
    ("12-hour local inference run (published figures)", "examples/inference-12h.tsv"),
    ("13-hour matching-engine refactor (published figures)", "examples/matching-engine.tsv"),
]

# Attempts since the last record beyond which a line of work looks exhausted.
STALL_ATTEMPTS = 10


def bundled(name: str) -> Path:
    """The path of a data file shipped inside the package."""
    return Path(str(resources.files("ridgeline").joinpath("data", name)))


@click.command()
@click.option("--db", "db", metavar="PATH",
              help="Keep the demo ledger in this SQLite file (default: a temporary file).")
@click.pass_context
def demo(ctx: click.Context, db: str | None) -> None:
    """Import a real results file and the two published runs; show what the ledger knows."""
    db = db or (ctx.find_root().obj or {}).get("db")
    if db:
        run_demo(db)
        return
    with tempfile.TemporaryDirectory(prefix="ridgeline-demo-") as folder:
        run_demo(str(Path(folder) / "demo.db"))


def run_demo(location: str) -> None:
    with ridgeline.open(location) as ledger:
        click.echo(f"ledger: {ledger.location}")
        for title, name in DEMO_FILES:
            report = import_results(ledger, bundled(name))
            show_run(ledger, title, report)
        show_advice(ledger)


def show_run(ledger: Ledger, title: str, report: ImportReport) -> None:
    runs = ledger.runs(source=report.file)
    ids = {run.id for run in runs}
    points = [p for p in ledger.run_points() if p.id in ids]
    objectives = [ledger.objective(choice.name) for choice in report.objectives]
    data = compute_frontier(objectives, points)
    click.echo("")
    click.echo(f"== {title}")
    crashes = sum(run.outcome == "crash" for run in runs)
    click.echo(f"{len(runs)} runs, {crashes} crash(es), {len(report.objectives)} objective(s)")
    print_frontier(data)
    for line in standing(data):
        click.echo(f"  {line}")
    click.echo("next:")
    for line in suggestions(ledger, runs, data):
        click.echo(f"  - {line}")


def standing(data: dict[str, Any]) -> list[str]:
    """Where each objective's best stands against its baseline, ideal or first record."""
    lines = []
    for item in data["objectives"]:
        best, records = item["best"], item["records"]
        if best is None:
            continue
        reference = item["baseline"]
        label = "baseline"
        if reference is None and records:
            reference, label = records[0]["value"], "first record"
        if reference:
            change = (best["value"] - reference) / abs(reference)
            click_text = f"{item['name']}: {change:+.1%} against the {label}"
            if item["ideal"] is not None:
                click_text += f", ideal {format_number(item['ideal'])}"
            lines.append(click_text)
    return lines


def suggestions(ledger: Ledger, runs: list, data: dict[str, Any]) -> list[str]:
    """A few plain suggestions read off one run's frontier and runs."""
    found = []
    found += _stalls(runs, data)
    found += _unvalidated(runs, data)
    found += _exhausted_regimes(ledger, runs)
    found += _crashes_without_lessons(ledger, runs)
    found += _pareto_note(data)
    return found or ["nothing stands out: keep going on the current line of work"]


def _stalls(runs: list, data: dict[str, Any]) -> list[str]:
    notes = []
    for item in data["objectives"]:
        if not item["records"]:
            continue
        last = item["records"][-1]["run"]
        later = [r for r in runs if r.intent == "attempt" and r.id > last]
        if len(later) >= STALL_ATTEMPTS:
            notes.append(
                f"{len(later)} attempts since the last {item['name']} record (run {last}): "
                "this line of work looks exhausted; try another family of technique"
            )
    return notes


def _unvalidated(runs: list, data: dict[str, Any]) -> list[str]:
    notes = []
    for item in data["objectives"]:
        best = item["best"]
        if best is None:
            continue
        checks = [r for r in runs if r.intent == "validation" and r.version == best["version"]]
        if not checks:
            notes.append(f"the best {item['name']} ({best['version']}) was never re-run: "
                         "validate it before building on it")
        else:
            notes.append(f"the best {item['name']} ({best['version']}) has "
                         f"{len(checks)} validation runs behind it")
    return notes


def _exhausted_regimes(ledger: Ledger, runs: list) -> list[str]:
    names = {r.version for r in runs if r.version}
    versions = [v for v in ledger.versions() if v.name in names and v.regime]
    failed = Counter(v.regime for v in versions if v.status == "failed")
    kept = {v.regime for v in versions if v.status == "committed"}
    return [
        f"regime {regime!r}: {count} failed versions and none kept; pivot to another family"
        for regime, count in failed.items()
        if count >= 3 and regime not in kept
    ]


def _crashes_without_lessons(ledger: Ledger, runs: list) -> list[str]:
    crashed = {r.id for r in runs if r.outcome == "crash"}
    if not crashed:
        return []
    taught = {lesson.run for lesson in ledger.lessons() if lesson.run in crashed}
    if taught:
        return [f"{len(crashed)} crash(es), {len(taught)} of them with a lesson written down"]
    return [f"{len(crashed)} crash(es) and no lesson written: write down what each one taught"]


def _pareto_note(data: dict[str, Any]) -> list[str]:
    if "pareto" not in data:
        return []
    members = ", ".join(p["version"] or str(p["run"]) for p in data["pareto"])
    open_gaps = [(o["headroom"], o["name"]) for o in data["objectives"]
                 if o["headroom"] is not None]
    if not open_gaps:
        return [f"Pareto set: {members or 'empty'}"]
    gap, name = max(open_gaps)
    return [f"Pareto set: {members or 'empty'}; {name} has the most headroom left "
            f"({gap:.0%} of its baseline-to-ideal gap): push it next"]


def show_advice(ledger: Ledger) -> None:
    # The advice module reads the whole ledger; it is optional so that the demo still
    # runs where that module is absent.
    try:
        from ridgeline.analysis.advice import advise
    except ImportError:
        return
    advice = advise(ledger)
    if advice:
        click.echo("")
        click.echo("== advice over the whole ledger")
        for item in advice:
            click.echo(f"  - {item.action}: {item.reason}")


COMMANDS = [demo]
