"""Agent transcripts: read any supported format into one `TraceAnalysis`, import it.

    analysis = analyze_trace("session.jsonl")            # no ledger needed
    summary = import_trace(ledger, "session.jsonl")      # runs and events into a ledger

Supported formats, detected from content: Claude Code and Codex JSONL, OpenHands output
and event streams, SWE-agent `.traj`, mini-swe-agent trajectories and ATIF JSON. OpenEvolve
checkpoints are read by `ridgeline.readers.evolve`. Nothing in a transcript is executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ridgeline.readers.traces.commands import (
    classify,
    compile_bench_matcher,
    metrics_extractor,
)
from ridgeline.readers.traces.detect import detect
from ridgeline.readers.traces.importer import import_trace
from ridgeline.readers.traces.model import BenchRun, TraceAnalysis, TraceBuilder, TraceEvent

__all__ = [
    "BenchRun", "TraceAnalysis", "TraceEvent", "analyze_trace", "detect_format",
    "import_trace",
]


def detect_format(path: str | Path) -> str:
    """The name of the format `path` holds (`claude-code`, `codex`, ...)."""
    reader, _ = detect(Path(path))
    return reader.NAME


def analyze_trace(
    path: str | Path,
    *,
    bench_pattern: str | None = None,
    bench_command: str | None = None,
    metric_patterns: list[str] | None = None,
) -> TraceAnalysis:
    """Read a transcript: sessions, tool calls over time, compactions, benchmark runs.

    Args:
        path: the transcript file.
        bench_pattern: a regular expression that marks benchmark commands.
        bench_command: text that a benchmark command contains (used without a pattern).
        metric_patterns: extra regular expressions for metrics in benchmark output (the
            ledger setting `bench.patterns`).

    Returns:
        The analysis; malformed lines are listed in it, not raised.

    Raises:
        InputError: the file is missing, empty, in no known format, or a pattern is bad.
    """
    path = Path(path)
    reader, document = detect(path)
    builder = TraceBuilder(
        str(path),
        reader.NAME,
        classify=classify,
        is_benchmark=compile_bench_matcher(bench_pattern, bench_command),
        metrics_of=metrics_extractor(metric_patterns),
        unit=getattr(reader, "UNIT", "line"),
    )
    if document is not None:
        reader.read(path, builder, document)
    else:
        reader.read(path, builder)
    return builder.finish()


def bench_settings(ledger: Any) -> dict[str, Any]:
    """The ledger's benchmark settings as `analyze_trace` keyword arguments."""
    patterns = ledger.get_setting("bench.patterns")
    return {
        "bench_pattern": ledger.get_setting("bench.pattern"),
        "bench_command": ledger.get_setting("bench.command"),
        "metric_patterns": list(patterns) if isinstance(patterns, list) else None,
    }
