"""Small synthetic Claude Code transcripts, and what the reader makes of their details.

`Transcript` writes the lines a Claude Code session would: tool calls in assistant
lines, results in the following user line, compactions as `compact_boundary` system
lines. The behaviour and import tests build their scenarios with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ridgeline.readers.traces import analyze_trace
from ridgeline.readers.traces.commands import compile_bench_matcher

START = 1_776_643_200.0  # 2026-04-20T00:00:00Z


def _iso(seconds: float) -> str:
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Transcript:
    """A Claude Code session written line by line; each method returns its line number."""

    def __init__(self, session: str = "session-1", start: float = START) -> None:
        self.lines: list[dict[str, Any]] = []
        self.session = session
        self.clock = start
        self.calls = 0

    def _add(self, line: dict[str, Any], seconds: float = 30) -> int:
        self.clock += seconds
        line.setdefault("sessionId", self.session)
        line.setdefault("timestamp", _iso(self.clock))
        line.setdefault("uuid", f"u{len(self.lines)}")
        self.lines.append(line)
        return len(self.lines)

    def tool(self, name: str, arguments: dict[str, Any], output: str = "",
             is_error: bool = False, seconds: float = 30) -> int:
        self.calls += 1
        call_id = f"toolu_{self.calls:04d}"
        line = self._add({"type": "assistant", "message": {
            "id": f"msg_{self.calls:04d}", "role": "assistant",
            "content": [{"type": "tool_use", "id": call_id, "name": name, "input": arguments}],
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }}, seconds)
        self._add({"type": "user", "message": {"role": "user", "content": [{
            "type": "tool_result", "tool_use_id": call_id, "content": output,
            "is_error": is_error,
        }]}}, 1)
        return line

    def bash(self, command: str, output: str = "", exit_code: int = 0,
             seconds: float = 30) -> int:
        if exit_code:
            output = f"Exit code {exit_code}\n{output}"
        return self.tool("Bash", {"command": command}, output, bool(exit_code), seconds)

    def edit(self, path: str = "kernel.zig") -> int:
        return self.tool("Edit", {"file_path": path, "old_string": "a", "new_string": "b"})

    def say(self, text: str) -> int:
        self.calls += 1
        return self._add({"type": "assistant", "message": {
            "id": f"msg_{self.calls:04d}", "role": "assistant",
            "content": [{"type": "text", "text": text}],
        }})

    def compact(self) -> int:
        line = self._add({"type": "system", "subtype": "compact_boundary",
                          "content": "Conversation compacted",
                          "compactMetadata": {"trigger": "auto", "preTokens": 150000}})
        self._add({"type": "user", "isCompactSummary": True,
                   "message": {"role": "user", "content": "Summary: best so far 1.0"}})
        return line

    def new_session(self, session: str) -> None:
        self.session = session

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(line) + "\n" for line in self.lines))
        return path


def test_usage_is_counted_once_per_message_id(tmp_path):
    transcript = Transcript()
    transcript.bash("ls")
    # Claude Code repeats one response's usage on each of its lines; the last is complete.
    first = dict(transcript.lines[0])
    first["message"] = dict(first["message"], usage={"input_tokens": 10, "output_tokens": 9})
    transcript.lines.insert(1, first)

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    assert analysis.usage == {"input_tokens": 10, "output_tokens": 9}


def test_unknown_line_and_event_types_are_ignored(tmp_path):
    transcript = Transcript()
    transcript.bash("make")
    transcript._add({"type": "hologram", "payload": {"anything": [1, 2]}})
    transcript._add({"type": "system", "subtype": "future_thing", "content": "x"})
    transcript.bash("make test")

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    assert analysis.format == "claude-code"
    assert analysis.tool_calls == 2
    assert analysis.malformed_count == 0


def test_benchmark_runs_carry_metrics_exit_and_cumulative_calls(tmp_path):
    transcript = Transcript()
    transcript.edit()
    bench = transcript.bash("python bench.py", "warmup\ntok_per_sec: 43.3\n")
    crash = transcript.bash("python bench.py --fast", "segfault", exit_code=139)

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    assert [(r.line, r.tool_calls, r.exit_status) for r in analysis.runs] == [
        (bench, 2, 0), (crash, 3, 139)]
    assert analysis.runs[0].metrics == {"tok_per_sec": 43.3}
    assert analysis.failed_commands == 1
    assert analysis.timeline[-1]["tool_calls"] == 3


def test_bench_pattern_replaces_the_default_heuristic(tmp_path):
    transcript = Transcript()
    transcript.bash("python bench.py", "tok_per_sec: 1")
    transcript.bash("./run_eval --quick", "score: 2")

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"), bench_pattern=r"run_eval")

    assert [r.command for r in analysis.runs] == ["./run_eval --quick"]
    assert analysis.runs[0].metrics == {"score": 2.0}


def test_mcp_calls_of_ridgeline_are_recognised(tmp_path):
    transcript = Transcript()
    transcript.tool("mcp__ridgeline__brief", {})
    transcript.tool("mcp__ridgeline__record", {"version": "v2", "metrics": {"x": 3}})

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    kinds = [(e.kind, e.data.get("command"), e.data.get("version")) for e in analysis.events
             if e.kind.startswith("ridgeline")]
    assert kinds == [("ridgeline_read", "brief", None), ("ridgeline_write", "record", "v2")]


def test_nothing_in_a_transcript_is_executed(tmp_path):
    marker = tmp_path / "executed"
    transcript = Transcript()
    transcript.bash(f"touch {marker} && python bench.py", "tok_per_sec: 5")

    analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    assert not marker.exists()


def test_timeline_stays_bounded_and_ends_at_the_total(tmp_path):
    transcript = Transcript()
    for index in range(5_000):
        transcript.bash(f"echo {index}", seconds=1)

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    assert analysis.tool_calls == 5_000
    assert len(analysis.timeline) <= 2_001
    counts = [point["tool_calls"] for point in analysis.timeline]
    assert counts == sorted(counts) and counts[-1] == 5_000


def test_events_stay_few_however_many_edits(tmp_path):
    transcript = Transcript()
    for _ in range(3):
        for _ in range(500):
            transcript.edit()
        transcript.bash("ridgeline brief")

    analysis = analyze_trace(transcript.write(tmp_path / "t.jsonl"))

    assert analysis.tool_calls == 1_503
    assert [e.kind for e in analysis.events] == ["session"] + ["edit", "ridgeline_read"] * 3


def test_python_style_nan_in_a_line_is_read_not_reported(tmp_path):
    transcript = Transcript()
    transcript.bash("python bench.py", "val_bpb: nan")
    path = transcript.write(tmp_path / "t.jsonl")
    with path.open("a") as stream:
        stream.write('{"type": "user", "sessionId": "session-1", "extra": NaN}\n')

    analysis = analyze_trace(path)

    assert analysis.malformed_count == 0
    assert analysis.runs[0].metrics["val_bpb"] != analysis.runs[0].metrics["val_bpb"]


@pytest.mark.parametrize(("command", "is_run"), [
    ("python bench.py", True),
    ("cd kernels && OMP_NUM_THREADS=4 ./bench.sh --quick", True),
    ("zig build bench -Doptimize=ReleaseFast", True),
    ("hyperfine './decode --tokens 128'", True),
    ("ridgeline bench -- python bench.py", True),
    ("ls bench/", False),
    ("cat bench.py", False),
    ("git add bench.py && git commit -m 'faster bench'", False),
    ("grep tok_per_sec bench.log | tail -3", False),
    ("ridgeline record --command 'python bench.py' --metric x=1", False),
    ("pytest tests/test_kernel.py", False),
])
def test_default_benchmark_heuristic(command, is_run):
    assert compile_bench_matcher()(command) is is_run
