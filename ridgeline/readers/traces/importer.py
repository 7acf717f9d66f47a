"""Recording what a transcript shows into a ledger.

Each benchmark run becomes a run (its metrics, `crash` on a non-zero exit, the tool
calls so far, its time and command), each session and compaction an event. Runs the
agent recorded itself (through `ridgeline bench`, or with a `ridgeline record` before its
next benchmark run) are already in its ledger and are left out. Every write
carries an idempotency key made from the transcript's fingerprint (see `fingerprint`:
it stays the same while a live transcript grows and when the file is moved)
and the line, so importing a file again, or a longer copy of it, adds only what is new.
All text passes through `redact` first, and the whole import is one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import BenchRun, TraceAnalysis
from ridgeline.redact import redact

logger = logging.getLogger(__name__)

_FINGERPRINT_BYTES = 64 * 1024


def fingerprint(path: Path, growing: bool = True) -> str:
    """A short hash that names a transcript wherever it is stored.

    A JSON-lines transcript grows at its end while the agent works, so only its first
    line (up to 64 KiB) names it. A document is hashed whole: its first line is a bare
    `{` shared by every pretty-printed file.
    """
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        if growing:
            digest.update(stream.readline(_FINGERPRINT_BYTES))
        else:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def import_trace(ledger: Any, path: str | Path, analysis: TraceAnalysis | None = None,
                 **analyze_options: Any) -> dict[str, Any]:
    """Record a transcript's benchmark runs, sessions and compactions in `ledger`.

    Args:
        ledger: an open `ridgeline.Ledger`.
        path: the transcript.
        analysis: an analysis already made of it; read afresh when None.
        **analyze_options: passed to `analyze_trace` (`bench_pattern`, ...).

    Returns:
        Counts: `runs` (new runs written), `events` (new events), `recorded_by_agent`
        (runs left out because the agent recorded them itself), `skipped` (lines of
        benchmark commands with neither a metric nor a failure), `malformed` and `format`.
    """
    from ridgeline.readers.traces import analyze_trace

    path = Path(path)
    if analysis is None:
        analysis = analyze_trace(path, **analyze_options)
    print_key = fingerprint(path, growing=analysis.unit == "line")
    fallback_time = path.stat().st_mtime
    runs_before, events_before = ledger.count_runs(), len(ledger.events())
    skipped, already = [], recorded_by_agent(analysis)
    with ledger.transaction():
        for index, run in enumerate(analysis.runs):
            if index in already:
                continue
            if not _record_run(ledger, run, analysis, print_key, fallback_time):
                skipped.append(run.line)
        for session in analysis.sessions:
            _add_event(ledger, "session_start", session, print_key, fallback_time)
        for compaction in analysis.compactions:
            _add_event(ledger, "compaction", compaction, print_key, fallback_time)
        declared = declare_objectives(ledger, analysis)
    if skipped:
        logger.info("%s: %d benchmark commands showed no metric and no failure (lines %s)",
                    path, len(skipped), ", ".join(map(str, skipped[:20])))
    return {
        "format": analysis.format,
        "runs": ledger.count_runs() - runs_before,
        "recorded_by_agent": len(already),
        "events": len(ledger.events()) - events_before,
        "skipped": skipped,
        "malformed": analysis.malformed_count,
        "objectives": declared,
    }


def declare_objectives(ledger: Any, analysis: TraceAnalysis) -> list[dict[str, str]]:
    """Declare the metrics the transcript's runs report, where the name tells the direction.

    A transcript never says whether higher is better; without an objective the frontier
    and the charts would have nothing to show. Metrics the ledger already declares, and
    names that say nothing (`score`), are left alone.
    """
    from ridgeline.readers.results import name_direction

    known = {objective.name for objective in ledger.objectives()}
    names = dict.fromkeys(name for run in analysis.runs for name in run.metrics)
    declared = []
    for name in names:
        direction = None if name in known else name_direction(name)
        if direction is not None:
            ledger.add_objective(name, direction)
            declared.append({"name": name, "direction": direction})
    return declared


def recorded_by_agent(analysis: TraceAnalysis) -> set[int]:
    """Indexes of runs the agent recorded itself: run through `ridgeline bench`, or
    followed by a `ridgeline record` before its next benchmark run. Importing them again
    would count each twice."""
    recorded: set[int] = set()
    current: int | None = None
    previous = None
    for event in analysis.events:
        if event.kind == "bench":
            current = event.data["run"]
            wrapped = (previous is not None and previous.kind == "ridgeline_write"
                       and previous.data.get("command") == "bench"
                       and previous.line == event.line)
            if wrapped:
                recorded.add(current)
        elif (event.kind == "ridgeline_write" and event.data.get("command") == "record"
              and current is not None):
            recorded.add(current)
            current = None
        previous = event
    return recorded


def _record_run(ledger: Any, run: BenchRun, analysis: TraceAnalysis, print_key: str,
                fallback_time: float) -> bool:
    # NaN and infinity are not results (the ledger refuses infinity): such a run crashed.
    metrics = {name: value for name, value in run.metrics.items() if math.isfinite(value)}
    if run.crashed:
        outcome, reason = "crash", f"exit status {run.exit_status}"
    elif metrics:
        outcome, reason = "ok", None
    elif run.metrics:
        outcome, reason = "crash", "no metric in the output was a finite number"
    else:
        # No metric and no failure: nothing the ledger could plot.
        return False
    ledger.record(
        metrics=metrics,
        outcome=outcome,
        reason=reason,
        at=run.at if run.at is not None else fallback_time,
        tool_calls=run.tool_calls,
        command=redact(run.command)[:2000],
        exit_status=run.exit_status,
        description=f"imported from a {analysis.format} transcript",
        source=analysis.source,
        source_line=run.line,
        key=f"trace:{print_key}:run:{run.line}:{run.tool_calls}",
        session=run.session,
    )
    return True


def _add_event(ledger: Any, kind: str, entry: dict[str, Any], print_key: str,
               fallback_time: float) -> None:
    data = {name: redact(value) if isinstance(value, str) else value
            for name, value in entry.items() if name != "time"}
    at = entry.get("time")
    ledger.add_event(kind, data, at=at if at is not None else fallback_time,
                     key=f"trace:{print_key}:{kind}:{entry['line']}")
