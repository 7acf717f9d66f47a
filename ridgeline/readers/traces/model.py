"""What a transcript reader finds, in one shape for every format.

Readers do not build this model directly: they feed a `TraceBuilder` one observation at
a time (a tool call, its result, a compaction) and the builder keeps only what the
analysis needs. Memory stays bounded however long the transcript is: the timeline is
thinned as it grows, open tool calls waiting for their result are capped, and outputs are
cut to a tail before anything is kept. What is kept in full is what is rare and wanted:
benchmark runs, compactions, sessions and the few events the behaviour scores read.

Every line number counts from 1 in the file as read; for formats that are one JSON
document (SWE-agent, ATIF) it is the step's position instead, and says so in `unit`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ridgeline.readers.traces.commands import claims_in, ridgeline_event
from ridgeline.redact import redact

# Enough of a command's output to find the metrics a benchmark prints in its summary.
OUTPUT_TAIL = 8_000

# Calls whose result never arrives (an interrupted session) must not pile up.
_MAX_OPEN_CALLS = 4_096

# The timeline is halved whenever it reaches this many points.
_MAX_TIMELINE = 2_000

# Failed commands and malformed lines beyond this many are counted, not listed.
_MAX_LISTED = 1_000

# Event kinds of which only the first of a consecutive run is kept.
_COLLAPSED = {"edit", "history", "claim_best", "flag_regression"}

_SHELL_TOOLS = {
    "bash", "shell", "exec_command", "execute_bash", "run", "bash_command", "terminal",
    "local_shell", "container.exec", "execute_command", "run_command", "cmd",
}
_EDIT_TOOLS = {
    "edit", "write", "multiedit", "notebookedit", "apply_patch", "str_replace_editor",
    "str_replace_based_edit_tool", "create_file", "edit_file", "write_file",
}


@dataclasses.dataclass
class ToolCall:
    """One call of a tool by the agent, as the builder tracks it until its result."""

    line: int
    at: float | None
    name: str
    command: str | None
    index: int


@dataclasses.dataclass
class BenchRun:
    """A benchmark command with what its output showed."""

    line: int
    at: float | None
    command: str
    tool_calls: int
    exit_status: int | None = None
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    session: str | None = None

    @property
    def crashed(self) -> bool:
        return self.exit_status not in (None, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "time": self.at,
            "command": redact(self.command),
            "tool_calls": self.tool_calls,
            "exit_status": self.exit_status,
            "outcome": "crash" if self.crashed else "ok",
            "metrics": {k: (v if v == v else None) for k, v in self.metrics.items()},
            "session": self.session,
        }


@dataclasses.dataclass
class TraceEvent:
    """Something the behaviour scores look at: a ridgeline command, a rollback, a claim."""

    kind: str
    line: int
    at: float | None
    tool_calls: int
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "line": self.line, "time": self.at,
            "tool_calls": self.tool_calls, **self.data,
        }


@dataclasses.dataclass
class TraceAnalysis:
    """Everything `ridgeline trace analyze` reports about one transcript."""

    source: str
    format: str
    unit: str = "line"
    sessions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    tool_calls: int = 0
    compactions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    failed_commands: int = 0
    failures: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    crashes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    timeline: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    runs: list[BenchRun] = dataclasses.field(default_factory=list)
    events: list[TraceEvent] = dataclasses.field(default_factory=list)
    usage: dict[str, int] = dataclasses.field(default_factory=dict)
    malformed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    malformed_count: int = 0
    start: float | None = None
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `ridgeline trace analyze --json`."""
        return {
            "source": self.source,
            "format": self.format,
            "unit": self.unit,
            "start": self.start,
            "end": self.end,
            "sessions": self.sessions,
            "tool_calls": self.tool_calls,
            "compactions": len(self.compactions),
            "compaction_events": self.compactions,
            "failed_commands": self.failed_commands,
            "failures": self.failures,
            "crashes": self.crashes,
            "usage": self.usage,
            "timeline": self.timeline,
            "runs": [run.to_dict() for run in self.runs],
            "events": [event.to_dict() for event in self.events],
            "malformed": self.malformed,
            "malformed_count": self.malformed_count,
        }


def tail(text: str | None, limit: int = OUTPUT_TAIL) -> str:
    """The end of an output, where benchmarks print their summary."""
    if not text:
        return ""
    return text if len(text) <= limit else text[-limit:]


def is_shell_tool(name: str) -> bool:
    return name.lower() in _SHELL_TOOLS


def is_edit_tool(name: str) -> bool:
    return name.lower() in _EDIT_TOOLS


class TraceBuilder:
    """Collects a reader's observations into a `TraceAnalysis`, in bounded memory.

    Args:
        source: the transcript's path, as recorded for provenance.
        format: the detected format's name.
        classify: decides what a command is (`ridgeline.readers.traces.commands`); given
            the command text, it returns the event kinds it stands for.
        is_benchmark: True for a command that runs the benchmark.
        metrics_of: metric values from a benchmark's output.
    """

    def __init__(
        self,
        source: str,
        format: str,
        *,
        classify: Callable[[str], list[tuple[str, dict[str, Any]]]],
        is_benchmark: Callable[[str], bool],
        metrics_of: Callable[[str], dict[str, float]],
        unit: str = "line",
    ) -> None:
        self.analysis = TraceAnalysis(source=source, format=format, unit=unit)
        self._classify = classify
        self._is_benchmark = is_benchmark
        self._metrics_of = metrics_of
        self._open: OrderedDict[str, tuple[ToolCall, BenchRun | None]] = OrderedDict()
        self._stride = 1
        self._session: str | None = None
        self._last_time: float | None = None

    # -- time and sessions --------------------------------------------------------------

    def seen_time(self, at: float | None) -> None:
        if at is None:
            return
        analysis = self.analysis
        if analysis.start is None or at < analysis.start:
            analysis.start = at
        if analysis.end is None or at > analysis.end:
            analysis.end = at
        self._last_time = at

    def now(self, at: float | None) -> float | None:
        """`at`, or the last time seen when a line carries none."""
        return at if at is not None else self._last_time

    def session(self, session_id: str | None, line: int, at: float | None, **data: Any) -> None:
        """A session begins; a repeated id on later lines is the same session."""
        if session_id is not None and session_id == self._session:
            return
        self._session = session_id
        self.seen_time(at)
        data = {k: redact(v) if isinstance(v, str) else v for k, v in data.items()}
        entry = {"id": session_id, "line": line, "time": self.now(at), **data}
        self.analysis.sessions.append(entry)
        self._event("session", line, at, {"session": session_id})

    def compaction(self, line: int, at: float | None, **data: Any) -> None:
        self.seen_time(at)
        entry = {"line": line, "time": self.now(at), "session": self._session, **data}
        self.analysis.compactions.append(entry)
        self._event("compaction", line, at, {})

    # -- tool calls ---------------------------------------------------------------------

    def tool_call(
        self,
        line: int,
        at: float | None,
        name: str,
        command: str | None = None,
        call_id: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        """The agent called a tool; `command` is the shell text for shell tools, and
        `arguments` the call's input, read only for ridgeline's own MCP tools."""
        call_id = _id_text(call_id)
        self.seen_time(at)
        analysis = self.analysis
        analysis.tool_calls += 1
        self._timeline_point(self.now(at))
        call = ToolCall(line, self.now(at), name, command, analysis.tool_calls)
        run = None
        if command:
            for kind, data in self._classify(command):
                self._event(kind, line, at, data)
            if self._is_benchmark(command):
                run = BenchRun(line, self.now(at), command, analysis.tool_calls,
                               session=self._session)
                analysis.runs.append(run)
                self._event("bench", line, at, {"run": len(analysis.runs) - 1})
        elif is_edit_tool(name):
            self._event("edit", line, at, {"tool": name})
        else:
            for kind, data in self._classify_tool_name(name, arguments or {}):
                self._event(kind, line, at, data)
        if call_id is not None:
            self._open[call_id] = (call, run)
            if len(self._open) > _MAX_OPEN_CALLS:
                self._open.popitem(last=False)

    def tool_result(
        self,
        call_id: str | None,
        line: int,
        at: float | None,
        output: str | None = None,
        exit_status: int | None = None,
        is_error: bool = False,
    ) -> None:
        """The result of the call `call_id`; an unknown id (its call cut off) is counted
        as a failure when it failed, and otherwise ignored."""
        call_id = _id_text(call_id)
        self.seen_time(at)
        call, run = self._open.pop(call_id, (None, None)) if call_id is not None else (None, None)
        if run is not None:
            self._finish_run(run, output, exit_status)
        if exit_status not in (None, 0) or (is_error and exit_status is None and call
                                            and call.command):
            self._failure(line, at, call, exit_status, output)

    def _finish_run(self, run: BenchRun, output: str | None, exit_status: int | None) -> None:
        run.exit_status = exit_status
        if output:
            # Only the metrics are kept: a long session has thousands of runs.
            run.metrics = self._metrics_of(tail(output))

    def _failure(self, line: int, at: float | None, call: ToolCall | None,
                 exit_status: int | None, output: str | None) -> None:
        analysis = self.analysis
        analysis.failed_commands += 1
        if len(analysis.failures) < _MAX_LISTED:
            command = call.command if call else None
            analysis.failures.append({
                "line": line,
                "call_line": call.line if call else None,
                "time": self.now(at),
                "command": redact(command) if command else None,
                "exit_status": exit_status,
            })

    def crash(self, line: int, at: float | None, reason: str) -> None:
        """The agent itself failed (an error that ended its episode)."""
        self.analysis.crashes.append({"line": line, "time": self.now(at),
                                      "reason": redact(reason)[:500]})
        self._event("crash", line, at, {"reason": redact(reason)[:200]})

    # -- messages, usage, malformed lines ------------------------------------------------

    def message(self, role: str, text: str | None, line: int, at: float | None) -> None:
        """Prose from the agent: kept only when it claims a best result or a regression."""
        self.seen_time(at)
        if role != "assistant" or not isinstance(text, str) or not text:
            return
        for kind, data in claims_in(text):
            self._event(kind, line, at, data)

    def add_usage(self, **counts: int | None) -> None:
        usage = self.analysis.usage
        for name, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                usage[name] = usage.get(name, 0) + value

    def set_usage(self, **counts: int | None) -> None:
        """Cumulative totals that the format itself keeps (the last report wins)."""
        for name, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                self.analysis.usage[name] = value

    def malformed(self, line: int, problem: str) -> None:
        analysis = self.analysis
        analysis.malformed_count += 1
        if len(analysis.malformed) < _MAX_LISTED:
            analysis.malformed.append({"line": line, "problem": problem})

    def finish(self) -> TraceAnalysis:
        """The analysis, with the timeline's last point at the final count."""
        analysis = self.analysis
        if analysis.tool_calls and (
            not analysis.timeline or analysis.timeline[-1]["tool_calls"] != analysis.tool_calls
        ):
            analysis.timeline.append({"time": self._last_time, "tool_calls": analysis.tool_calls})
        return analysis

    # -- internals ----------------------------------------------------------------------

    def _event(self, kind: str, line: int, at: float | None, data: dict[str, Any]) -> None:
        events = self.analysis.events
        # The scores read only the first of a run of edits (or log reads, or claims)
        # between other events; keeping one bounds the list by the rare events.
        if kind in _COLLAPSED and events and events[-1].kind == kind:
            return
        events.append(
            TraceEvent(kind, line, self.now(at), self.analysis.tool_calls, data)
        )

    def _timeline_point(self, at: float | None) -> None:
        analysis = self.analysis
        if analysis.tool_calls % self._stride:
            return
        analysis.timeline.append({"time": at, "tool_calls": analysis.tool_calls})
        if len(analysis.timeline) >= _MAX_TIMELINE:
            # Keep every other point: the curve keeps its shape at half the resolution.
            analysis.timeline = analysis.timeline[1::2]
            self._stride *= 2

    @staticmethod
    def _classify_tool_name(
        name: str, arguments: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        # MCP tools arrive as `mcp__ridgeline__record` (Claude Code) or `ridgeline.record`.
        match = re.search(r"ridgeline(?:__|\.|/|_)([a-z_]+)$", name, re.IGNORECASE)
        if not match:
            return []
        events = ridgeline_event(match.group(1).replace("_", " "), via="mcp")
        for _, data in events:
            for field in ("version", "intent", "outcome"):
                if isinstance(arguments.get(field), str):
                    data[field] = arguments[field]
            if isinstance(arguments.get("metrics"), dict):
                data["metrics"] = {
                    str(k): float(v) for k, v in arguments["metrics"].items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                }
        return events


def _id_text(call_id: Any) -> str | None:
    # A damaged transcript may carry a list or an object as a call id; as text it can
    # still pair a call with its result, and it can be used as a key.
    return None if call_id is None else str(call_id)

